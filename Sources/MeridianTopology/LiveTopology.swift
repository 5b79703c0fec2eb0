import Synchronization

/// The topology a node runs now: the version it started with until `meridian topology apply`
/// commits a newer one. Parts that act on the topology (shard counts, gateways to name to
/// clients, simulated latency, the file a seed hands to a joining node) read ``current`` each
/// time instead of keeping the value they started with.
public final class LiveTopology: Sendable {
    /// One version: the parsed topology and the YAML it came from (handed on verbatim).
    public struct Version: Sendable, Equatable {
        public var topology: Topology
        public var yaml: String

        public init(topology: Topology, yaml: String) {
            self.topology = topology
            self.yaml = yaml
        }
    }

    private struct State {
        var version: Version
        var watchers: [UInt64: AsyncStream<Version>.Continuation] = [:]
        var nextWatcher: UInt64 = 0
    }

    private let state: Mutex<State>

    public init(_ topology: Topology, yaml: String) {
        state = Mutex(State(version: Version(topology: topology, yaml: yaml)))
    }

    public var current: Topology { state.withLock { $0.version.topology } }
    public var currentVersion: Version { state.withLock { $0.version } }
    public var version: Int { current.version }

    /// Replaces the topology with a newer version and tells every watcher. Returns false, and
    /// changes nothing, when `version` is not newer than the current one.
    @discardableResult
    public func adopt(_ version: Version) -> Bool {
        let watchers = state.withLock { state -> [AsyncStream<Version>.Continuation]? in
            guard version.topology.version > state.version.topology.version else { return nil }
            state.version = version
            return Array(state.watchers.values)
        }
        guard let watchers else { return false }
        for watcher in watchers { watcher.yield(version) }
        return true
    }

    /// Every version adopted from now on, in order.
    public func changes() -> AsyncStream<Version> {
        let (stream, continuation) = AsyncStream<Version>.makeStream(bufferingPolicy: .unbounded)
        let id = state.withLock { state in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[id] = continuation
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }
}
