import Foundation
import Testing
@testable import MeridianStorage

@Suite struct LedgerTests {
    @Test(arguments: TestBackend.enabled)
    func replayingAKeyReturnsTheOriginalReceiptAndIsRecorded(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store).id
            let append = LedgerAppend(player: player, epoch: .initial, idempotencyKey: "quest-42", operation: .grant(["gold": 100, "gem": 2]), reason: "quest 42")
            let original = try await store.append(append)
            #expect(original.sequence == 1)
            #expect(!original.replayed)
            #expect(original.balancesAfter == ["gold": 100, "gem": 2])

            // Other events move the balances on; the replay still answers with the original receipt.
            _ = try await store.append(LedgerAppend(player: player, epoch: .initial, idempotencyKey: "spend", operation: .consume(["gold": 30])))
            let replay = try await store.append(append)
            #expect(replay.replayed)
            #expect(replay.sequence == original.sequence)
            #expect(replay.balancesAfter == original.balancesAfter)
            _ = try await store.append(append)

            #expect(try await store.balances(of: player) == ["gold": 70, "gem": 2])
            #expect(try await store.player(player)?.ledgerSequence == 2)
            let replays = try await store.ledgerReplays(of: player)
            #expect(replays.map(\.idempotencyKey) == ["quest-42", "quest-42"])
            let value1 = replays.allSatisfy { $0.sequence == 1 }
            #expect(value1)

            // The same key for a different request is refused, not silently replayed.
            var different = append
            different.operation = .grant(["gold": 1_000])
            let code2 = await storageError { try await store.append(different) }?.code
            #expect(code2 == .idempotencyConflict)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func negativeBalancesAreRefusedAndNothingIsWritten(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store).id
            try await grant(store, player, ["gold": 10, "potion": 1])
            let consume = LedgerAppend(player: player, epoch: .initial, idempotencyKey: "too-much", operation: .consume(["gold": 11]))
            let code3 = await storageError { try await store.append(consume) }?.code
            #expect(code3 == .insufficientBalance(item: "gold", available: 10, requested: 11))
            let buy = LedgerAppend(player: player, epoch: .initial, idempotencyKey: "buy", operation: .purchase(items: ["sword": 1], price: ["gold": 50]))
            let code4 = await storageError { try await store.append(buy) }?.code
            #expect(code4 == .insufficientBalance(item: "gold", available: 10, requested: 50))
            let unknown = LedgerAppend(player: player, epoch: .initial, idempotencyKey: "ghost", operation: .consume(["ghost": 1]))
            let code5 = await storageError { try await store.append(unknown) }?.code
            #expect(code5 == .insufficientBalance(item: "ghost", available: 0, requested: 1))
            #expect(try await store.balances(of: player) == ["gold": 10, "potion": 1])
            #expect(try await store.player(player)?.ledgerSequence == 1)

            // A refused key is not burnt: the same key succeeds once the request is affordable.
            try await grant(store, player, ["gold": 1])
            let receipt = try await store.append(consume)
            #expect(receipt.sequence == 3)
            #expect(receipt.balancesAfter == ["gold": 0])
            let late = LedgerAppend(player: player, epoch: .initial, idempotencyKey: "x", operation: .grant(["gold": 1]), expectedSequence: 9)
            let code6 = await storageError { try await store.append(late) }?.code
            #expect(code6 == .sequenceConflict(expected: 9, actual: 4))
        }
    }

    @Test(arguments: TestBackend.enabled)
    func concurrentAppendsWithExpectedSequenceHaveExactlyOneWinnerPerSequence(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store).id
            let rounds = 12
            let contenders = 8
            for round in 1...rounds {
                let outcomes = await withTaskGroup(of: Result<LedgerReceipt, StorageError>.self) { group in
                    for contender in 0..<contenders {
                        group.addTask {
                            let append = LedgerAppend(
                                player: player, epoch: .initial, idempotencyKey: "r\(round)-c\(contender)",
                                operation: .grant(["gold": 1]), expectedSequence: Int64(round)
                            )
                            do throws(StorageError) { return .success(try await store.append(append)) } catch { return .failure(error) }
                        }
                    }
                    var all: [Result<LedgerReceipt, StorageError>] = []
                    for await outcome in group { all.append(outcome) }
                    return all
                }
                let winners = outcomes.compactMap { try? $0.get() }
                #expect(winners.count == 1, "round \(round)")
                #expect(winners.first?.sequence == Int64(round))
                for case .failure(let error) in outcomes {
                    #expect(error.code == .sequenceConflict(expected: Int64(round), actual: Int64(round) + 1))
                }
            }
            let events = try await store.ledgerEvents(of: player, after: 0, limit: 1_000)
            let value7 = (1...Int64(rounds)).map { $0 }
            #expect(events.map(\.sequence) == value7)
            #expect(Set(events.map(\.idempotencyKey)).count == rounds)
            #expect(try await store.balances(of: player) == ["gold": Int64(rounds)])
        }
    }

    @Test(arguments: TestBackend.enabled)
    func concurrentAppendsWithoutExpectationsAreGaplessAndUnique(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store).id
            // Each task appends its keys twice: the second append of a key is a replay.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<8 {
                    group.addTask {
                        for i in 0..<10 {
                            for _ in 0..<2 {
                                _ = try await store.append(LedgerAppend(player: player, epoch: .initial, idempotencyKey: "t\(task)-\(i)", operation: .grant(["gold": 1])))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let events = try await store.ledgerEvents(of: player, after: 0, limit: 1_000)
            let value8 = (1...80).map { Int64($0) }
            #expect(events.map(\.sequence) == value8)
            #expect(Set(events.map(\.idempotencyKey)).count == 80)
            #expect(try await store.balances(of: player) == ["gold": 80])
            #expect(try await store.ledgerReplays(of: player).count == 80)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func balancesEqualTheirRecomputationFromEvents(_ backend: TestBackend) async throws {
        try await withFreshStore(backend, snapshotInterval: 4) { store in
            let player = try await makePlayer(store).id
            for i in 0..<23 {
                let operation: LedgerOperation = switch i % 3 {
                case 0: .grant(["gold": Int64(10 + i), "gem": 1])
                case 1: .consume(["gold": 3])
                default: .purchase(items: ["potion": 2], price: ["gold": 4])
                }
                _ = try await store.append(LedgerAppend(player: player, epoch: .initial, idempotencyKey: "k\(i)", operation: operation))
            }
            let cached = try await store.balances(of: player)
            let events = try await store.ledgerEvents(of: player, after: 0, limit: 1_000)
            var folded: ItemQuantities = [:]
            for event in events {
                for (item, delta) in event.deltas { folded[item, default: 0] += delta }
                for (item, after) in event.balancesAfter { #expect(folded[item] == after, "event \(event.sequence) \(item)") }
            }
            #expect(cached == folded)
            #expect(try await store.recomputedBalances(of: player) == folded)
            #expect(events.count == 23)
            #expect(events.first?.reason == "")
            #expect(events.map(\.kind).prefix(3) == [.grant, .consume, .purchase])
            // Paging.
            #expect(try await store.ledgerEvents(of: player, after: 20, limit: 2).map(\.sequence) == [21, 22])
        }
    }

    @Test(arguments: TestBackend.enabled)
    func appendsToUnknownPlayersAreRefused(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let append = LedgerAppend(player: PlayerID(), epoch: .initial, idempotencyKey: "k", operation: .grant(["gold": 1]))
            let code9 = await storageError { try await store.append(append) }?.code
            #expect(code9 == .playerNotFound)
        }
    }
}
