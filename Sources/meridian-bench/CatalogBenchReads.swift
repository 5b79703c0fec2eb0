import MeridianLatency
import MeridianCommandLine
import Foundation
import MeridianBench
import MeridianCatalog
import Synchronization

/// `meridian-bench catalog`, part 1: how long `LocalCatalog.current` (and a typical lookup through it)
/// takes while another thread swaps in a new version every `publishInterval` — far more often than real
/// publishes, so the readers always race a writer.
///
/// Readers are OS threads (not tasks), so several really run at once. Each reader times batches of
/// `batch` reads with one clock read per batch (a clock read costs about as much as a catalog read) and
/// records the batch time; percentiles are of the per-read time within a batch.
struct CatalogReadBenchmark {
    /// One measured case.
    struct Result: Codable, Sendable {
        /// `current` (take the snapshot) or `lookup` (take it, find an item, check a flag for a player).
        var `case`: String
        var readers: Int
        var nsPerOp: Double
        var p50Ns: Double
        var p99Ns: Double
        var p999Ns: Double
        var maxBatchNs: Double
        var reads: Int
        var readsPerSecond: Double
        var publishes: Int

        enum CodingKeys: String, CodingKey {
            case `case`, readers, reads, publishes
            case nsPerOp = "ns_per_op"
            case p50Ns = "p50_ns"
            case p99Ns = "p99_ns"
            case p999Ns = "p999_ns"
            case maxBatchNs = "max_batch_ns_per_op"
            case readsPerSecond = "reads_per_s"
        }
    }

    var duration: Duration = .seconds(2)
    var readerCounts: [Int] = [1, 2, 4]
    var publishInterval: Duration = .milliseconds(1)
    var batch = 256
    let content: CatalogContent

    func run(progress: (String) -> Void) async -> [Result] {
        var results: [Result] = []
        for readers in readerCounts {
            for lookup in [false, true] {
                progress("catalog reads: \(lookup ? "lookup" : "current"), \(readers) reader(s)")
                results.append(await measure(readers: readers, lookup: lookup))
            }
        }
        return results
    }

    private func measure(readers: Int, lookup: Bool) async -> Result {
        let local = LocalCatalog(initial: CatalogSnapshot(version: 1, content: content))
        // Built up front: the publisher only swaps, as fast as the interval allows.
        let versions = Int(duration / publishInterval) + 100
        let snapshots = (0..<min(versions, 5_000)).map { CatalogSnapshot(version: UInt64($0 + 2), content: variant(of: content, $0)) }
        let stop = Atomic<Bool>(false)
        let finished = Atomic<Int>(0)
        let recorders = Mutex<[(LatencyRecorder, Int, Duration)]>([])
        let players = (0..<64).map { _ in UUID() }
        let itemID = content.items.first?.id ?? ""
        let flagName = content.flags.first?.name ?? ""
        let batch = self.batch

        for _ in 0..<readers {
            Thread.detachNewThread {
                var recorder = LatencyRecorder(resolution: .nanoseconds)
                let clock = ContinuousClock()
                let start = clock.now
                var reads = 0
                var sink = 0
                var index = 0
                while !stop.load(ordering: .relaxed) {
                    let batchStart = clock.now
                    if lookup {
                        for _ in 0..<batch {
                            let snapshot = local.current
                            if snapshot.item(itemID) != nil { sink &+= 1 }
                            if snapshot.isEnabled(flagName, forPlayer: players[index & 63]) { sink &+= 1 }
                            index &+= 1
                        }
                    } else {
                        for _ in 0..<batch {
                            sink &+= Int(truncatingIfNeeded: local.current.version)
                        }
                    }
                    recorder.record(batchStart.duration(to: clock.now))
                    reads += batch
                }
                let elapsed = start.duration(to: clock.now)
                if sink == 42 { print("", terminator: "") }  // keeps the reads from being optimised away
                recorders.withLock { $0.append((recorder, reads, elapsed)) }
                finished.add(1, ordering: .releasing)
            }
        }
        // The publisher: a new version every interval, on this task, while the readers run.
        let clock = ContinuousClock()
        let end = clock.now + duration
        var published = 0
        while clock.now < end, published < snapshots.count {
            local.install(snapshots[published])
            published += 1
            try? await Task.sleep(for: publishInterval)
        }
        if clock.now < end { try? await Task.sleep(until: end) }
        stop.store(true, ordering: .relaxed)
        while finished.load(ordering: .acquiring) < readers { try? await Task.sleep(for: .milliseconds(1)) }

        let all = recorders.withLock { $0 }
        let merged = LatencyRecorder.merged(all.map(\.0)) ?? LatencyRecorder()
        let reads = all.map(\.1).reduce(0, +)
        // Mean time per read as each reader saw it (its time over its reads), averaged over the readers.
        let nsPerOp = all.map { $0.2.benchMicroseconds * 1e3 / Double(max(1, $0.1)) }.reduce(0, +) / Double(max(1, all.count))
        let seconds = duration.benchSeconds
        func perRead(_ batchTime: Duration) -> Double { batchTime.benchMicroseconds * 1e3 / Double(batch) }
        return Result(
            case: lookup ? "lookup" : "current", readers: readers, nsPerOp: nsPerOp,
            p50Ns: perRead(merged.p50), p99Ns: perRead(merged.p99), p999Ns: perRead(merged.p999), maxBatchNs: perRead(merged.max),
            reads: reads, readsPerSecond: Double(reads) / seconds, publishes: published
        )
    }

    /// The content with one config value changed, so every version differs (and hashes differently).
    private func variant(of content: CatalogContent, _ index: Int) -> CatalogContent {
        var copy = content
        copy.config.values["bench_generation"] = .int(Int64(index))
        return copy
    }
}
