import Foundation
import MeridianAdmin
import MeridianCatalog
import MeridianCluster
import MeridianGame
import MeridianGateway
import MeridianIdentity
import MeridianTopology

/// Everything a ``MeridianNode`` is made of, as plain settings. `meridian bootstrap` fills it
/// from the topology file and its flags; tests fill it with short timeouts and fixed rules.
public struct NodeConfiguration: Sendable {
    /// The node's actor system: id, region, addresses, seeds, secret, membership timing, clock.
    public var cluster: ClusterSystem.Configuration
    /// The cluster's topology as this node starts with it.
    public var topology: Topology
    /// Where to serve the admin HTTP (``MeridianAdmin/AdminServer``: `/metrics`, `/healthz`,
    /// `/readyz`, the JSON API and the web console): the topology's `metrics:` address of the
    /// node. Default nil: none.
    public var adminAddress: HostPort?
    /// Who may read the admin HTTP and act through it. Default none: only the probes answer.
    public var adminTokens: AdminTokens = .none
    /// The file the node appends its audit log of admin actions to. Default nil: the entries
    /// go to the node's log and the console only.
    public var auditLogPath: String?
    /// How long an idle player's actor stays in memory with no call and nobody connected; the
    /// next call loads the player again. Default 10 minutes.
    public var passivatePlayersAfter: Duration = .seconds(600)
    /// The identity layer's settings. Default: ``IdentityConfiguration/node(of:)`` of the topology.
    public var identity: IdentityConfiguration
    /// The wall clock access tokens are issued and checked with. Default: the system's.
    public var wallClock: @Sendable () -> Date = { Date() }
    /// Where the node's catalog replica keeps its copy. Default: next to the region's SQLite
    /// data (see ``MeridianCatalog/CatalogConfiguration/init(topology:region:environment:)``).
    public var catalog: CatalogConfiguration
    /// The game rules, fixed instead of read from the catalog's game config; with fixed rules
    /// the node runs no catalog replica. Default nil: the catalog's (tests fix them).
    public var fixedRules: GameRules?
    /// The client gateway's limits and timeouts, when the topology gives this node a
    /// `gateway:` address. nil: no gateway on this node whatever the topology says.
    public var gateway: GatewayConfiguration? = GatewayConfiguration()
    /// How long a leaving node's gateway waits for its clients to resume elsewhere after telling
    /// them where (``MeridianGateway/GatewayServer/drain(timeout:)``) before it closes the rest. Default 5 s.
    public var gatewayDrainTimeout: Duration = .seconds(5)
    /// How long a node the cluster declared down may take to stop its parts before
    /// ``MeridianNode/run()`` gives up waiting and reports ``MeridianNode/stopWasStuck`` (it
    /// logs the parts still stopping). Such a node cannot start again in its process — the stuck
    /// parts may still hold its ports — so `meridian bootstrap` exits with
    /// ``MeridianNode/declaredDownExitCode`` for its supervisor. Counted on the node's clock
    /// (`cluster.clock`). Default 30 s.
    public var declaredDownStopLimit: Duration = .seconds(30)

    /// Where the node keeps the topology versions `meridian topology apply` commits, so a restart
    /// runs the latest. Default: `<data directory>/<node>.topology.yaml` (see
    /// ``MeridianTopology/Topology/dataDirectory(region:environment:)``); nil: not kept.
    public var appliedTopology: AppliedTopologyFile?

    /// `environment` gives the data directory (`MERIDIAN_DATA_DIR`) the defaults of ``catalog``
    /// and ``appliedTopology`` are derived from; default: this process's.
    public init(
        cluster: ClusterSystem.Configuration, topology: Topology,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.cluster = cluster
        self.topology = topology
        self.appliedTopology = AppliedTopologyFile(directory: topology.dataDirectory(region: cluster.region, environment: environment), node: cluster.node)
        self.identity = .node(of: topology)
        self.catalog = CatalogConfiguration(topology: topology, region: cluster.region, environment: environment)
    }
}
