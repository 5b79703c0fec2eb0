import Foundation
import Logging

/// What ``runLedgerBenchmark(store:players:writers:duration:writer:logger:)`` measured.
public struct LedgerBenchmarkResult: Sendable {
    /// Appends committed during the measured interval.
    public var appends: Int
    /// Appends that failed (should be 0; refusals and transaction failures alike).
    public var failures: Int
    public var elapsed: Duration
    /// Latency of every committed append, from submit to receipt, unsorted.
    public var latencies: [Duration]
    /// Group-commit counters of the measured interval.
    public var batches: Int

    public var appendsPerSecond: Double {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return seconds > 0 ? Double(appends) / seconds : 0
    }

    /// Average appends per transaction.
    public var averageBatchSize: Double { batches > 0 ? Double(appends + failures) / Double(batches) : 0 }

    /// The latency at `fraction` (0.5 for p50, 0.99 for p99), or zero without samples.
    public func percentile(_ fraction: Double) -> Duration {
        guard !latencies.isEmpty else { return .zero }
        let sorted = latencies.sorted()
        let index = min(sorted.count - 1, max(0, Int((Double(sorted.count) * fraction).rounded(.up)) - 1))
        return sorted[index]
    }
}

/// Measures ledger append throughput and latency with group commit: `writers` concurrent tasks append
/// to `players` fresh players (each writer owns every `writers`-th player, so appends to one player
/// never race) for `duration` after a warm-up of a tenth of it. Three grants of `gold` are followed
/// by one consume, so balances stay small and refusals are exercised on the hot path's checks.
///
/// The players are created in `store` under a fresh region name; run it against a scratch database.
public func runLedgerBenchmark(
    store: any RegionStore,
    players: Int = 1_000,
    writers: Int = 64,
    duration: Duration = .seconds(10),
    writer configuration: LedgerWriter.Configuration = .init(),
    logger: Logger
) async throws(StorageError) -> LedgerBenchmarkResult {
    let playerCount = max(1, players)
    let writerCount = max(1, writers)
    let ids = (0..<playerCount).map { _ in PlayerID() }
    let region = "bench-\(UUID().uuidString.prefix(8).lowercased())"
    try await createBenchmarkPlayers(ids, region: region, store: store)
    logger.info("ledger benchmark players ready", metadata: ["meridian.bench.players": "\(playerCount)", "meridian.storage": "\(store.location)"])

    let writer = LedgerWriter(store: store, configuration: configuration, logger: logger)
    let clock = ContinuousClock()
    let warmUp = duration / 10
    let start = clock.now
    let measureFrom = start.advanced(by: warmUp)
    let end = measureFrom.advanced(by: duration)

    enum Outcome: Sendable {
        case writer(latencies: [Duration], failures: Int)
        case statisticsAtStart(LedgerWriter.Statistics)
    }
    let outcomes = await withTaskGroup(of: Outcome.self) { group in
        for w in 0..<writerCount {
            let mine = stride(from: w, to: playerCount, by: writerCount).map { ids[$0] }
            guard !mine.isEmpty else { continue }
            group.addTask {
                var latencies: [Duration] = []
                var failures = 0
                var counter = 0
                while true {
                    let sent = clock.now
                    // Every writer measures at least one append: on a machine stalled through the
                    // whole window the result is slow, never empty.
                    if sent >= end, !latencies.isEmpty || failures > 0 { break }
                    let player = mine[counter % mine.count]
                    let round = counter / mine.count
                    counter += 1
                    let operation: LedgerOperation = round % 4 == 3 ? .consume(["gold": 2]) : .grant(["gold": 1])
                    let append = LedgerAppend(player: player, epoch: .initial, idempotencyKey: "bench-\(round)", operation: operation, reason: "bench")
                    do throws(StorageError) {
                        _ = try await writer.append(append)
                        if sent >= measureFrom { latencies.append(clock.now - sent) }
                    } catch {
                        if sent >= measureFrom { failures += 1 }
                    }
                }
                return .writer(latencies: latencies, failures: failures)
            }
        }
        group.addTask {
            try? await Task.sleep(until: measureFrom, clock: clock)
            return .statisticsAtStart(await writer.statistics)
        }
        var all: [Outcome] = []
        for await outcome in group { all.append(outcome) }
        return all
    }
    let after = await writer.statistics
    var latencies: [Duration] = []
    var failures = 0
    var batchesBefore = 0
    for outcome in outcomes {
        switch outcome {
        case .writer(let mine, let failed):
            latencies.append(contentsOf: mine)
            failures += failed
        case .statisticsAtStart(let statistics):
            batchesBefore = statistics.batches
        }
    }
    return LedgerBenchmarkResult(
        appends: latencies.count, failures: failures, elapsed: duration, latencies: latencies, batches: after.batches - batchesBefore
    )
}

private func createBenchmarkPlayers(_ ids: [PlayerID], region: String, store: any RegionStore) async throws(StorageError) {
    // A few creates in flight at a time: enough to hide round trips, few enough for a small pool.
    let inFlight = 16
    let result = await withTaskGroup(of: StorageError?.self) { group -> StorageError? in
        var next = 0
        func add() {
            guard next < ids.count else { return }
            let id = ids[next]
            next += 1
            group.addTask {
                do throws(StorageError) {
                    _ = try await store.createPlayer(NewPlayer(id: id, displayName: "bench", homeRegion: region))
                    return nil
                } catch {
                    return error
                }
            }
        }
        for _ in 0..<inFlight { add() }
        for await error in group {
            if let error { group.cancelAll(); return error }
            add()
        }
        return nil
    }
    if let result { throw result }
}
