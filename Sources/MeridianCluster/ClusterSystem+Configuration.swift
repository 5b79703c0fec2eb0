import Foundation
import MeridianClock
import MeridianMembership
import MeridianTopology
import MeridianTransport

extension ClusterSystem {
    /// Everything a node needs to join its cluster. Defaults suit a production node; tests
    /// shorten the timeouts.
    public struct Configuration: Sendable {
        /// The cluster's name; a peer from another cluster is refused at the handshake.
        public var cluster: String
        /// This node's id from the topology, e.g. `eu-west-1`.
        public var node: String
        public var region: String
        /// Identifies this process's lifetime; must grow across restarts of the same node.
        /// Default: microseconds since 1970 at start.
        public var incarnation: UInt64 = UInt64(Date().timeIntervalSince1970 * 1_000_000)
        /// Where to listen for peers. Port 0 picks a free port (tests).
        public var bindHost: String = "127.0.0.1"
        public var bindPort: Int = 0
        /// The address peers dial; default `bindHost:<bound port>`.
        public var advertisedAddress: String?
        /// Shared secret every node must prove it holds.
        public var secret: ClusterSecret
        /// Cluster addresses of seed nodes (this node's own address is skipped).
        public var seeds: [String] = []
        /// Addresses of nodes by id, from the topology: used to reach a node that membership
        /// has not heard of yet (status queries, calls before gossip converged).
        public var knownAddresses: [String: String] = [:]
        /// Version of the topology file this node runs, sent in the handshake.
        public var topologyVersion: UInt64 = 0
        /// The topology file's text, handed to nodes that join with `--seed`.
        public var topologyYAML: String?
        /// The topology the node runs, when it can change live (`meridian topology apply`):
        /// nodes that join with `--seed` get its current version rather than ``topologyYAML``.
        public var topology: LiveTopology?
        /// How long a remote call waits for its reply unless the caller says otherwise
        /// (``ClusterSystem/withCallTimeout(_:operation:)``). Default 5 s.
        public var callTimeout: Duration = .seconds(5)
        /// The most calls (expecting a reply) one peer may have running on this node at once;
        /// one more is answered at once with ``ClusterError/Code/overloaded`` and not run. Bounds
        /// what a buggy or hostile member can make this node hold. Default 16,384.
        public var maxInboundCallsPerPeer = 16_384
        /// How often expired calls are failed; the precision of call deadlines. Default 10 ms.
        public var deadlineCheckInterval: Duration = .milliseconds(10)
        /// Simulated one-way delay between two regions (zero within one). Used by the link
        /// emulator when `emulateLatency` is set, and by membership to scale timeouts.
        public var oneWayLatency: @Sendable (_ from: String, _ to: String) -> Duration = { _, _ in .zero }
        /// Apply `oneWayLatency` on the wire (local multi-region runs on one machine).
        public var emulateLatency = false
        /// False for tools (`meridian status`) that call into the cluster without becoming a
        /// member: no SWIM, nobody lists them.
        public var joinsCluster = true
        /// The clock of the node's timed actor work: passivation here, and what the game and
        /// gateway layers built on this system schedule (ticks, lobby and countdown timers,
        /// matchmaker passes, reconciliation), and a node's declared-down stop limit. Tests give a ``ManualClock`` and step it.
        /// Transport and membership deadlines run on the event loops' own clock. Default: continuous.
        public var clock: AnyClock = .continuous
        public var transport = TransportConfiguration()
        public var membership = SWIMConfiguration()

        public init(cluster: String, node: String, region: String, secret: ClusterSecret) {
            self.cluster = cluster
            self.node = node
            self.region = region
            self.secret = secret
        }
    }
}
