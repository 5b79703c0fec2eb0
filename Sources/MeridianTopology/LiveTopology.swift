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

    private let state: Mutex<Version>

    public init(_ topology: Topology, yaml: String) {
        state = Mutex(Version(topology: topology, yaml: yaml))
    }

    public var current: Topology { state.withLock { $0.topology } }
    public var currentVersion: Version { state.withLock { $0 } }
    public var version: Int { current.version }

    /// Replaces the topology with a newer version. Returns false, and changes nothing, when
    /// `version` is not newer than the current one.
    @discardableResult
    public func adopt(_ version: Version) -> Bool {
        state.withLock { state in
            guard version.topology.version > state.topology.version else { return false }
            state = version
            return true
        }
    }
}
