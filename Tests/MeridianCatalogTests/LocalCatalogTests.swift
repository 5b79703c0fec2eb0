import Foundation
import MeridianCatalog
import Synchronization
import Testing

@Suite("Local reads: whole versions only, never waiting")
struct LocalCatalogTests {
    @Test("concurrent readers never observe a partial catalog while versions are swapped thousands of times")
    func readersNeverSeeAMix() async throws {
        let publishes = 5_000
        // Built before the race, so the publisher only swaps.
        let snapshots = (1...publishes).map { CatalogSnapshot(version: UInt64($0), content: CatalogSamples.consistent(generation: $0)) }
        let local = LocalCatalog()
        let done = Atomic<Bool>(false)
        let readerCount = 4
        let ready = Atomic<Int>(0)
        let reads = Atomic<Int>(0)
        let results = Mutex<[(reads: Int, versions: Int, violation: String?)]>([])
        let finished = Atomic<Int>(0)

        // Readers on their own threads, so they really run while the publisher swaps (2 cores).
        for _ in 0..<readerCount {
            Thread.detachNewThread {
                ready.add(1, ordering: .releasing)
                var count = 0, versionsSeen = 0, last: UInt64 = 0
                var violation: String?
                while !done.load(ordering: .acquiring) {
                    let snapshot = local.current
                    count += 1
                    reads.add(1, ordering: .relaxed)
                    if snapshot.version < last { violation = "went back from v\(last) to v\(snapshot.version)" }
                    if snapshot.version != last { versionsSeen += 1 }
                    last = snapshot.version
                    if violation == nil, let problem = CatalogSamples.violation(in: snapshot) { violation = problem }
                    if violation != nil { break }
                }
                results.withLock { $0.append((count, versionsSeen, violation)) }
                finished.add(1, ordering: .releasing)
            }
        }
        while ready.load(ordering: .acquiring) < readerCount { try await Task.sleep(for: .milliseconds(1)) }
        let clock = ContinuousClock()
        for snapshot in snapshots {
            #expect(local.install(snapshot))
            // Let the readers get at this version before the next swap (at most 2 ms).
            let target = reads.load(ordering: .relaxed) + readerCount
            let deadline = clock.now + .milliseconds(2)
            while reads.load(ordering: .relaxed) < target, clock.now < deadline {}
        }
        done.store(true, ordering: .releasing)
        while finished.load(ordering: .acquiring) < readerCount { try await Task.sleep(for: .milliseconds(5)) }

        let all = results.withLock { $0 }
        for result in all {
            #expect(result.violation == nil, "\(result.violation ?? "")")
        }
        #expect(local.version == UInt64(publishes))
        #expect(CatalogSamples.violation(in: local.current) == nil)
        #expect(all.map(\.versions).reduce(0, +) >= publishes / 2, "the readers ran during the swaps: \(all.map(\.versions))")
        print("readers: \(all.map(\.reads)) reads, saw \(all.map(\.versions)) distinct versions during \(publishes) swaps")
    }

    @Test("only a newer stamp is installed; equal versions are ordered by content hash")
    func onlyNewer() {
        let local = LocalCatalog()
        let v2 = CatalogSnapshot(version: 2, content: CatalogSamples.consistent(generation: 2))
        let v1 = CatalogSnapshot(version: 1, content: CatalogSamples.consistent(generation: 1))
        #expect(local.version == 0)
        #expect(local.install(v2))
        #expect(!local.install(v1))
        #expect(!local.install(v2))
        #expect(local.current === v2)
        // A split primary region could number two catalogs 2: every node keeps the larger hash.
        let other = CatalogSnapshot(version: 2, content: CatalogSamples.consistent(generation: 9))
        let (low, high) = v2.contentHash < other.contentHash ? (v2, other) : (other, v2)
        let fresh = LocalCatalog(initial: low)
        #expect(fresh.install(high))
        #expect(!fresh.install(low))
        #expect(fresh.current === high)
    }

    @Test("updates stream and waiting for a version")
    func waiting() async throws {
        let local = LocalCatalog()
        let updates = local.updates()
        async let waited = local.waitForVersion(3, timeout: .seconds(10))
        try await Task.sleep(for: .milliseconds(20))
        for version in 1...3 {
            local.install(CatalogSnapshot(version: UInt64(version), content: CatalogSamples.consistent(generation: version)))
        }
        #expect(try await waited.version == 3)
        var iterator = updates.makeAsyncIterator()
        #expect(await iterator.next()?.version == 3)  // a slow consumer sees the latest
        await #expect(throws: CatalogTimeoutError.self) { try await local.waitForVersion(9, timeout: .milliseconds(50)) }
    }
}

@Suite("SnapshotCell: replaced snapshots are freed while readers run, never under them")
struct SnapshotReclamationTests {
    @Test("readers keep using snapshots the writer has already replaced and released")
    func replacedSnapshotsAreFreedSafely() async throws {
        let swaps = 10_000
        let local = LocalCatalog()
        let done = Atomic<Bool>(false)
        let readerCount = 4
        let started = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        let problems = Mutex<[String]>([])

        for _ in 0..<readerCount {
            Thread.detachNewThread {
                started.add(1, ordering: .releasing)
                var held: [CatalogSnapshot] = []
                var index = 0
                while !done.load(ordering: .acquiring) {
                    // Hold a few snapshots for a while (so some outlive their replacement), drop others at once.
                    let snapshot = local.current
                    if let problem = CatalogSamples.violation(in: snapshot) {
                        problems.withLock { $0.append(problem) }
                        break
                    }
                    index &+= 1
                    if index % 16 == 0 {
                        held.append(snapshot)
                        if held.count > 8 { held.removeFirst() }
                    }
                    for old in held where CatalogSamples.violation(in: old) != nil {
                        problems.withLock { $0.append("a held snapshot changed under its reader: v\(old.version)") }
                    }
                }
                finished.add(1, ordering: .releasing)
            }
        }
        while started.load(ordering: .acquiring) < readerCount { try await Task.sleep(for: .milliseconds(1)) }
        // Built one at a time and owned only by the cell (and readers): each is freed once replaced and dropped.
        var watched: [WeakSnapshot] = []
        for version in 1...swaps {
            let snapshot = CatalogSnapshot(version: UInt64(version), content: CatalogSamples.consistent(generation: version))
            watched.append(WeakSnapshot(snapshot))
            local.install(snapshot)
        }
        done.store(true, ordering: .releasing)
        while finished.load(ordering: .acquiring) < readerCount { try await Task.sleep(for: .milliseconds(5)) }
        let isEmpty1 = problems.withLock { $0 }.isEmpty
        #expect(isEmpty1, "\(problems.withLock { $0.prefix(3) })")
        #expect(local.version == UInt64(swaps))
        let freed = watched.filter { $0.snapshot == nil }.count
        #expect(freed >= swaps - 1 - readerCount * 8, "replaced snapshots are freed: \(freed) of \(swaps)")
    }
}

/// A weak reference: tells whether a snapshot has been freed.
final class WeakSnapshot {
    weak var snapshot: CatalogSnapshot?
    init(_ snapshot: CatalogSnapshot) { self.snapshot = snapshot }
}
