import Metrics
import Synchronization

/// The catalog this node serves: a reference to an immutable ``CatalogSnapshot``, swapped whole when a
/// newer version arrives.
///
/// ``current`` is a local, in-memory read that takes no lock and never waits — not for a publish, not for
/// another reader (see `SnapshotCell`) — and never sees a mix of two versions (a snapshot is built
/// completely before it is swapped in, and never changes afterwards).
public final class LocalCatalog: Sendable {
    private let cell: SnapshotCell
    private let servedVersion: Atomic<UInt64>
    private let subscribers = Mutex<Subscribers>(Subscribers())
    /// `meridian_catalog_version`: the version served. One node per process in production; in-process
    /// test clusters share the gauge (the last install wins).
    private let versionGauge = Gauge(label: "meridian_catalog_version")

    private struct Subscribers {
        var next: UInt64 = 0
        var continuations: [UInt64: AsyncStream<CatalogSnapshot>.Continuation] = [:]
    }

    /// Starts serving `initial` (the persisted version after a restart, or ``CatalogSnapshot/empty``).
    public init(initial: CatalogSnapshot = .empty) {
        self.cell = SnapshotCell(initial)
        self.servedVersion = Atomic(initial.version)
        versionGauge.record(initial.version)
    }

    /// The catalog served right now. Hold on to the result for a consistent view across several reads.
    public var current: CatalogSnapshot {
        cell.load()
    }

    /// Version of ``current``.
    public var version: UInt64 { servedVersion.load(ordering: .acquiring) }

    /// Serves `newer` if its stamp is above the current one; returns whether it did.
    /// Never goes back: an older or equal stamp is ignored, so pushes and fetches may arrive in any order.
    @discardableResult
    package func install(_ newer: CatalogSnapshot) -> Bool {
        cell.replace(with: newer, if: { newer.stamp > $0.stamp }) {
            servedVersion.store(newer.version, ordering: .releasing)
            versionGauge.record(newer.version)
            // Still serialised with other installs, so subscribers see versions in the order they were served.
            // (Lock order: the cell's writer lock, then subscribers; nothing takes them the other way round.)
            let continuations = subscribers.withLock { Array($0.continuations.values) }
            for continuation in continuations { continuation.yield(newer) }
        }
    }

    /// Every snapshot installed from now on, newest last (a slow consumer sees only the latest).
    public func updates() -> AsyncStream<CatalogSnapshot> {
        let (stream, continuation) = AsyncStream.makeStream(of: CatalogSnapshot.self, bufferingPolicy: .bufferingNewest(1))
        let id = subscribers.withLock { state in
            defer { state.next += 1 }
            state.continuations[state.next] = continuation
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.continuations.removeValue(forKey: id) }
        }
        return stream
    }

    /// Waits until the served version is at least `version`.
    /// - Throws: ``CatalogTimeoutError`` when it is not within `timeout`; `CancellationError` when cancelled.
    @discardableResult
    public func waitForVersion(_ version: UInt64, timeout: Duration) async throws -> CatalogSnapshot {
        let updates = updates()
        if current.version >= version { return current }
        return try await withThrowingTaskGroup(of: CatalogSnapshot?.self) { group in
            group.addTask {
                for await snapshot in updates where snapshot.version >= version { return snapshot }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            if let snapshot = try await group.next() ?? nil { return snapshot }
            let served = current
            if served.version >= version { return served }
            throw CatalogTimeoutError(wanted: version, served: served.version, timeout: timeout)
        }
    }
}

/// A node did not reach a catalog version in time.
public struct CatalogTimeoutError: Error, Sendable, CustomStringConvertible {
    public var wanted: UInt64
    public var served: UInt64
    public var timeout: Duration
    public var description: String {
        "catalog v\(wanted) not served within \(timeout) (still v\(served)); is the node connected to the catalog leader?"
    }
}
