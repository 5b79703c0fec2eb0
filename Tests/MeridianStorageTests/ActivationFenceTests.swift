import Foundation
import Testing
@testable import MeridianStorage

/// The single-activation fence: a node that claims a player's activation becomes its only writer;
/// writes presenting an earlier activation are refused inside their transaction and write nothing.
@Suite struct ActivationFenceTests {
    @Test(arguments: TestBackend.enabled)
    func onlyTheLatestClaimWrites(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store, epoch: 3)
            let first = try await store.claimActivation(of: player.id, node: "node-a")
            #expect(first.profile.epoch == 3)
            let append = { (activation: Activation, key: String) in
                LedgerAppend(player: player.id, epoch: 3, activation: activation, idempotencyKey: key, operation: .grant(["gold": 1]))
            }
            #expect(try await store.append(append(first.activation, "a-1")).sequence == 1)

            let second = try await store.claimActivation(of: player.id, node: "node-b")
            #expect(second.activation > first.activation)
            #expect(second.profile.ledgerSequence == 1)

            // Every write of the deposed activation: an append, a trade-out, a match result.
            let stale: [(String, () async throws -> Void)] = [
                ("append", { _ = try await store.append(append(first.activation, "a-2")) }),
                ("trade", {
                    _ = try await store.tradeOut(TradeOutRequest(
                        tradeID: TradeID(), giver: player.id, giverEpoch: 3, giverActivation: first.activation,
                        receiver: PlayerID(), destinationRegion: "us-east", items: ["gold": 1]
                    ))
                }),
                ("match", {
                    let record = MatchRecord(matchID: MatchID(), player: player.id, finishedAt: Date(), outcome: .win, xpAwarded: 10)
                    _ = try await store.applyLedger([.matchResult(MatchResultApplication(record: record, epoch: 3, activation: first.activation))])[0].get()
                }),
            ]
            for (name, write) in stale {
                let error = await storageError(write)
                #expect(error?.code == .activationLost(current: second.activation), "\(name)")
                #expect(error?.isTransient == true, "\(name)")
            }
            #expect(try await store.balances(of: player.id) == ["gold": 1])
            #expect(try await store.matchHistory(of: player.id, limit: 10).isEmpty)
            #expect(try await store.pendingTrades(limit: 10).isEmpty)

            // The new activation writes; a replay of the old one's key is still refused, not answered.
            #expect(try await store.append(append(second.activation, "b-1")).sequence == 2)
            let replay = await storageError { try await store.append(append(first.activation, "a-1")) }
            #expect(replay?.code == .activationLost(current: second.activation))
            // Writes made without a player actor (system writes, admin tools) are fenced by the epoch only.
            #expect(try await grant(store, player.id, ["gold": 1], epoch: 3).sequence == 3)
        }
    }

    /// Two nodes of one region on one PostgreSQL database: after the second claims the player, the
    /// first's concurrent writes all fail — none lands between the claim and the refusal.
    @Test(.enabled(if: TestBackend.postgresURL != nil))
    func aSecondNodeOnTheSameDatabaseDeposesTheFirst() async throws {
        try await withFresh(.postgres) { fresh in
            let other = try await fresh.reopen()
            let player = try await makePlayer(fresh.store)
            let first = try await fresh.store.claimActivation(of: player.id, node: "node-a")
            let writeFromA: @Sendable (Int) async throws -> LedgerReceipt = { index in
                try await fresh.store.append(LedgerAppend(
                    player: player.id, epoch: .initial, activation: first.activation, idempotencyKey: "a-\(index)", operation: .grant(["gold": 1])
                ))
            }
            for index in 0..<5 { _ = try await writeFromA(index) }
            let (claim, results) = try await withThrowingTaskGroup(of: Void.self) { group in
                let results = AsyncResults()
                for index in 5..<45 {
                    group.addTask { await results.add(index, await Result(catching: { try await writeFromA(index) })) }
                }
                let claim = try await other.claimActivation(of: player.id, node: "node-b")
                try await group.waitForAll()
                return (claim, await results.all)
            }
            // The writes that succeeded are exactly those the store holds; every refusal names the new activation.
            let accepted = results.filter { (try? $0.value.get()) != nil }.count
            for (index, result) in results {
                if case .failure(let error) = result {
                    let code = (error as? StorageError)?.code
                    #expect(code == .activationLost(current: claim.activation), "write \(index): \(error)")
                }
            }
            let events = try await other.ledgerEvents(of: player.id, after: 0, limit: 100)
            #expect(events.count == 5 + accepted)
            #expect(try await other.balances(of: player.id) == ["gold": Int64(5 + accepted)])
            // After the claim, no write of node A lands.
            let late = await storageError { try await writeFromA(100) }
            #expect(late?.code == .activationLost(current: claim.activation))
            #expect(try await other.ledgerEvents(of: player.id, after: 0, limit: 100).count == 5 + accepted)
            await other.close()
        }
    }
}

/// Results gathered from concurrent tasks.
private actor AsyncResults {
    private(set) var all: [(key: Int, value: Result<LedgerReceipt, any Error>)] = []

    func add(_ key: Int, _ result: Result<LedgerReceipt, any Error>) {
        all.append((key, result))
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
