/// A whole cluster layout as written in a `Topology/*.yaml` file: regions, the latency between them,
/// which regions hold the global roles, and every node with its addresses.
///
/// Values come from ``TopologyLoader``, which only returns topologies that passed validation.
/// A topology built in code can be checked with ``validate(file:)``.
public struct Topology: Sendable, Equatable {
    /// Cluster name; nodes refuse handshakes from another cluster.
    public var cluster: String
    /// Monotonic topology version; a node converges on the highest version it has seen.
    public var version: Int
    /// Regions sorted by name.
    public var regions: [Region]
    /// Simulated one-way delay between regions.
    public var latency: LatencyTable
    /// Region in which catalogs are published.
    public var catalogPrimary: String
    /// Region holding the global identity directory.
    public var identityAuthority: String
    /// `dev_login: true`: gateways accept `DevLogin` (a client names a player id and gets it, no
    /// credential). For local clusters and tests only; every other topology refuses it.
    public var devLogin: Bool
    /// Ids of the nodes a starting node contacts first.
    public var seeds: [String]
    /// Every node, in file order.
    public var nodes: [Node]

    /// Creates a topology; `regions` are sorted by name so equal layouts compare equal.
    public init(
        cluster: String,
        version: Int,
        regions: [Region],
        latency: LatencyTable = LatencyTable(),
        catalogPrimary: String,
        identityAuthority: String,
        devLogin: Bool = false,
        seeds: [String],
        nodes: [Node]
    ) {
        self.cluster = cluster
        self.version = version
        self.regions = regions.sorted { $0.name < $1.name }
        self.latency = latency
        self.catalogPrimary = catalogPrimary
        self.identityAuthority = identityAuthority
        self.devLogin = devLogin
        self.seeds = seeds
        self.nodes = nodes
    }

    /// The region with this name, if any.
    public func region(named name: String) -> Region? {
        regions.first { $0.name == name }
    }

    /// The node with this id, if any.
    public func node(id: String) -> Node? {
        nodes.first { $0.id == id }
    }

    /// The nodes of one region, in file order.
    public func nodes(in region: String) -> [Node] {
        nodes.filter { $0.region == region }
    }
}

/// A region: a set of nodes sharing one store, owning a fixed number of game shards.
public struct Region: Sendable, Equatable {
    /// Region name, e.g. `eu-west`; used in actor paths and `latency_ms` keys.
    public var name: String
    /// Number of game shards placed on this region's nodes.
    public var shards: Int
    /// Storage URL: `sqlite:<directory>` or `postgres://…`. May hold a password; print it with ``redactedStorage``.
    public var storage: String

    /// Creates a region.
    public init(name: String, shards: Int, storage: String) {
        self.name = name
        self.shards = shards
        self.storage = storage
    }

    /// ``storage`` with any password replaced by `***`, safe for logs and reports.
    public var redactedStorage: String { StorageURL.redacted(storage) }

    /// Whether every node of the region opens the same database (PostgreSQL), so any of them can
    /// serve any of the region's players; false for `sqlite:` (one file per node).
    public var nodesShareStorage: Bool { StorageURL.isShared(storage) }
}

/// One cluster node and the addresses it listens on.
public struct Node: Sendable, Equatable {
    /// Unique node id, e.g. `eu-west-1`.
    public var id: String
    /// Name of the region the node belongs to.
    public var region: String
    /// Node-to-node transport endpoint.
    public var cluster: HostPort
    /// Client-facing gateway endpoint.
    public var gateway: HostPort
    /// Metrics endpoint, when the node exports metrics.
    public var metrics: HostPort?
    /// Whether players' data may live on the node (`players:`, default true). A node added to a
    /// running region whose storage is one SQLite file per node says `players: false`: player
    /// placement leaves it out, so no player moves to a node without its data; it runs shards,
    /// matchmaking and a gateway like any other.
    public var holdsPlayers: Bool

    /// Creates a node.
    public init(id: String, region: String, cluster: HostPort, gateway: HostPort, metrics: HostPort? = nil, holdsPlayers: Bool = true) {
        self.id = id
        self.region = region
        self.cluster = cluster
        self.gateway = gateway
        self.metrics = metrics
        self.holdsPlayers = holdsPlayers
    }
}
