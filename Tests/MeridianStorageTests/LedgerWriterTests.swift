import Foundation
import Testing
@testable import MeridianStorage

@Suite struct LedgerWriterTests {
    @Test(arguments: TestBackend.enabled)
    func groupCommitKeepsPerPlayerOrderAndIsolatesARefusal(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            var players: [PlayerID] = []
            for _ in 0..<8 { players.append(try await makePlayer(store).id) }
            let lanes = backend == .postgres ? 2 : 1
            let writer = LedgerWriter(
                store: store, configuration: .init(maximumBatchSize: 64, maximumDelay: .milliseconds(5), lanes: lanes), logger: testLogger
            )
            let poisoned = players[3]
            // Each player submits 20 appends at once, in order; `expectedSequence` fails any reordering.
            // Player 3's 5th append asks for more gold than it has: only that one may fail.
            let outcomes = await withTaskGroup(of: (PlayerID, [Result<LedgerReceipt, StorageError>]).self) { group in
                for player in players {
                    group.addTask {
                        var commands: [LedgerCommand] = []
                        var sequence: Int64 = 0
                        for i in 0..<20 {
                            let poison = player == poisoned && i == 4
                            let operation: LedgerOperation = poison ? .consume(["gold": 1_000]) : (i % 2 == 0 ? .grant(["gold": 3]) : .consume(["gold": 1]))
                            sequence += poison ? 0 : 1
                            commands.append(.append(LedgerAppend(
                                player: player, epoch: .initial, idempotencyKey: "w\(i)", operation: operation,
                                expectedSequence: poison ? nil : sequence
                            )))
                        }
                        return (player, await writer.submit(commands))
                    }
                }
                var all: [(PlayerID, [Result<LedgerReceipt, StorageError>])] = []
                for await outcome in group { all.append(outcome) }
                return all
            }
            for (player, results) in outcomes {
                let failures = results.enumerated().filter { (try? $0.element.get()) == nil }.map(\.offset)
                #expect(failures == (player == poisoned ? [4] : []))
                let sequences = results.compactMap { try? $0.get().sequence }
                let value1 = (1...Int64(sequences.count)).map { $0 }
                #expect(sequences == value1)
                let events = try await store.ledgerEvents(of: player, after: 0, limit: 100)
                let value2 = (0..<20).filter { player != poisoned || $0 != 4 }.map { "w\($0)" }
                #expect(events.map(\.idempotencyKey) == value2)
            }
            if case .failure(let error)? = outcomes.first(where: { $0.0 == poisoned })?.1[4] {
                #expect(error.code == .insufficientBalance(item: "gold", available: 4, requested: 1_000))
            }
            let statistics = await writer.statistics
            #expect(statistics.commands == 160)
            #expect(statistics.batches < statistics.commands, "appends were batched")
            #expect(statistics.failedBatches == 0)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func singleAppendsThroughTheWriter(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store).id
            let writer = LedgerWriter(store: store, configuration: .init(maximumDelay: .zero), logger: testLogger)
            let append = LedgerAppend(player: player, epoch: .initial, idempotencyKey: "one", operation: .grant(["gold": 5]))
            #expect(try await writer.append(append).sequence == 1)
            #expect(try await writer.append(append).replayed)
            let stale = LedgerAppend(player: player, epoch: 7, idempotencyKey: "two", operation: .grant(["gold": 5]))
            let code3 = await storageError { try await writer.append(stale) }?.code
            #expect(code3 == .staleEpoch(current: .initial))
        }
    }

    @Test(arguments: TestBackend.enabled)
    func benchmarkEntryPointRuns(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            // Long enough that a batch stalled by the suite's other tests (CREATE/DROP DATABASE run in
            // parallel) cannot swallow the whole window: at 300 ms this measured no append now and then.
            let result = try await runLedgerBenchmark(store: store, players: 20, writers: 4, duration: .seconds(1), logger: testLogger)
            #expect(result.appends > 0)
            #expect(result.failures == 0)
            #expect(result.percentile(0.5) <= result.percentile(0.99))
            let report = try await LedgerAudit.run(stores: [store])
            #expect(report.isClean, "\(report.mismatches)")
        }
    }
}
