import Foundation
import MeridianMatchmaking
@testable import MeridianStorage
import Testing

/// The pure decision core, without a database.
@Suite struct LedgerPlannerTests {
    let alice = PlayerID()

    func planner(sequence: Int64 = 0, balances: ItemQuantities = [:], interval: Int64 = 256) -> LedgerPlanner {
        var state = LedgerBatchState()
        state.players[alice] = LedgerPlayerRow(epoch: 3, state: .active, sequence: sequence, xp: 0)
        state.balances[alice] = balances
        return LedgerPlanner(state: state, now: Date(timeIntervalSince1970: 1_000), snapshotInterval: interval)
    }

    func append(_ key: String, _ operation: LedgerOperation, epoch: Epoch = 3, expected: Int64? = nil) -> LedgerCommand {
        .append(LedgerAppend(player: alice, epoch: epoch, idempotencyKey: key, operation: operation, expectedSequence: expected))
    }

    @Test func aRefusedCommandLeavesTheRestOfTheBatchAlone() throws {
        var planner = planner(balances: ["gold": 5])
        let results = [
            append("a", .consume(["gold": 3])),
            append("b", .consume(["gold": 3])),  // only 2 left
            append("c", .grant(["gold": 1]), epoch: 2),  // stale
            append("d", .grant(["gem": 1]), expected: 2),
        ].map { planner.apply($0) }
        #expect(try results[0].get().sequence == 1)
        #expect((try? results[1].get()) == nil)
        if case .failure(let error) = results[1] { #expect(error.code == .insufficientBalance(item: "gold", available: 2, requested: 3)) }
        if case .failure(let error) = results[2] { #expect(error.code == .staleEpoch(current: 3)) }
        #expect(try results[3].get().sequence == 2)
        #expect(planner.plan.events.map(\.idempotencyKey) == ["a", "d"])
        #expect(planner.plan.playerSequences[alice] == 2)
        #expect(Set(planner.plan.balances.map(\.item)) == ["gold", "gem"])
    }

    @Test func aKeyRepeatedInOneBatchIsAReplay() throws {
        var planner = planner()
        let first = try planner.apply(append("k", .grant(["gold": 10]))).get()
        let again = try planner.apply(append("k", .grant(["gold": 10]))).get()
        #expect(again.replayed)
        #expect(again.sequence == first.sequence)
        #expect(again.balancesAfter == first.balancesAfter)
        #expect(planner.plan.events.count == 1)
        #expect(planner.plan.replays.count == 1)
        let conflict = planner.apply(append("k", .grant(["gold": 11])))
        if case .failure(let error) = conflict { #expect(error.code == .idempotencyConflict) } else { Issue.record("accepted a reused key") }
    }

    @Test func snapshotsEveryIntervalHoldAllBalances() throws {
        var planner = planner(sequence: 2, balances: ["gem": 4], interval: 4)
        _ = try planner.apply(append("x", .grant(["gold": 1]))).get()  // seq 3
        #expect(planner.plan.snapshots.isEmpty)
        _ = try planner.apply(append("y", .grant(["gold": 1]))).get()  // seq 4
        let value1 = Set(planner.plan.snapshots.map { "\($0.sequence) \($0.item) \($0.quantity)" })
        #expect(value1 == ["4 gem 4", "4 gold 2"])
    }

    @Test func purchasesCreditAndDebit() throws {
        var planner = planner(balances: ["gold": 100])
        let receipt = try planner.apply(append("buy", .purchase(items: ["sword": 1], price: ["gold": 60]))).get()
        #expect(receipt.balancesAfter == ["sword": 1, "gold": 40])
        let refused = planner.apply(append("buy2", .purchase(items: ["sword": 1], price: ["gold": 60])))
        if case .failure(let error) = refused { #expect(error.code == .insufficientBalance(item: "gold", available: 40, requested: 60)) }
        let invalid = planner.apply(append("buy3", .purchase(items: ["gold": 1], price: ["gold": 1])))
        if case .failure(let error) = invalid { #expect(error.code == .invalidArgument) } else { Issue.record("accepted") }
    }

    @Test func malformedRequestsAreRefused() {
        var planner = planner()
        for command in [
            append("", .grant(["gold": 1])),
            append("k1", .grant([:])),
            append("k2", .grant(["gold": 0])),
            append("k3", .consume(["gold": -1])),
            append("k4", .grant(["": 1])),
        ] {
            if case .failure(let error) = planner.apply(command) { #expect(error.code == .invalidArgument) } else { Issue.record("accepted \(command)") }
        }
        #expect(planner.plan.isEmpty)
    }

    @Test func matchResultsOfOnePlayerInOneBatchAddUpAndRepeatsAreReplays() throws {
        var planner = planner(balances: ["gold": 1])
        let rating = SkillRating(rating: 1600, deviation: 200, volatility: 0.06)
        func match(_ id: MatchID, xp: Int64, rewards: ItemQuantities, skill: SkillRating?) -> LedgerCommand {
            .matchResult(MatchResultApplication(
                record: MatchRecord(matchID: id, player: alice, finishedAt: Date(timeIntervalSince1970: 0), outcome: .win, xpAwarded: xp),
                epoch: 3, rewards: rewards, skillAfter: skill
            ))
        }
        let (first, second) = (MatchID(), MatchID())
        let results = [
            match(first, xp: 100, rewards: ["gold": 2], skill: rating),
            match(first, xp: 100, rewards: ["gold": 2], skill: rating),
            match(second, xp: 250, rewards: [:], skill: nil),
        ].map { planner.apply($0) }
        let value2 = try results.map { try $0.get().sequence }
        #expect(value2 == [1, 1, 2])
        let value3 = try results.map { try $0.get().replayed }
        #expect(value3 == [false, true, false])
        #expect(try results[2].get().balancesAfter == [:])
        #expect(planner.plan.matches.map(\.matchID) == [first, second])
        #expect(planner.plan.lines.count == 1)
        #expect(planner.plan.events.map(\.kind) == [.matchReward, .matchReward])
        // The rating of the first match stays: the second set none.
        #expect(planner.plan.progress[alice] == .init(xp: 350, level: 3, skill: rating))
        #expect(planner.plan.replays.map(\.sequence) == [1])
        #expect(planner.state.players[alice]?.xp == 350)
    }
}
