import MeridianYAML

/// A topology as written, before validation: every value remembers where it was written, and anything
/// missing or malformed is `nil` (already reported), so validation can go on past it.
struct TopologyDraft {
    struct RegionDraft {
        var name: Located<String>
        var shards: Located<Int>?
        var storage: Located<String>?
    }

    struct NodeDraft {
        var location: SourceLocation
        var id: Located<String>?
        var region: Located<String>?
        var cluster: Located<HostPort>?
        var gateway: Located<HostPort>?
        var metrics: Located<HostPort>?
        var players: Located<Bool>?
    }

    struct LatencyDraft {
        /// The key as written, e.g. `eu-west/us-east`.
        var key: Located<String>
        var pair: RegionPair
        var milliseconds: Located<Int>?
    }

    var location: SourceLocation = .none
    var cluster: Located<String>?
    var version: Located<Int>?
    /// `nil` when the section is missing or unusable, so references to regions are not checked against nothing.
    var regions: Located<[RegionDraft]>?
    var latency: [LatencyDraft] = []
    var catalogPrimary: Located<String>?
    var identityAuthority: Located<String>?
    /// Absent means false.
    var devLogin: Located<Bool>?
    var seeds: Located<[Located<String>]>?
    var nodes: Located<[NodeDraft]>?

    /// The validated model; `nil` if any required part is missing (which was reported when found).
    func topology() -> Topology? {
        guard let cluster, let version, let regions, let catalogPrimary, let identityAuthority, let seeds, let nodes
        else { return nil }
        var builtRegions: [Region] = []
        for region in regions.value {
            guard let shards = region.shards, let storage = region.storage else { return nil }
            builtRegions.append(Region(name: region.name.value, shards: shards.value, storage: storage.value))
        }
        var builtNodes: [Node] = []
        for node in nodes.value {
            guard let id = node.id, let region = node.region, let clusterAddress = node.cluster, let gateway = node.gateway
            else { return nil }
            builtNodes.append(Node(
                id: id.value, region: region.value, cluster: clusterAddress.value,
                gateway: gateway.value, metrics: node.metrics?.value, holdsPlayers: node.players?.value ?? true
            ))
        }
        var latencyTable = LatencyTable()
        for entry in latency {
            guard let milliseconds = entry.milliseconds else { return nil }
            latencyTable.milliseconds[entry.pair] = milliseconds.value
        }
        return Topology(
            cluster: cluster.value,
            version: version.value,
            regions: builtRegions,
            latency: latencyTable,
            catalogPrimary: catalogPrimary.value,
            identityAuthority: identityAuthority.value,
            devLogin: devLogin?.value ?? false,
            seeds: seeds.value.map(\.value),
            nodes: builtNodes
        )
    }
}

extension TopologyDraft {
    /// A draft of an in-memory topology (no source positions), so one validator serves files and code.
    init(_ topology: Topology) {
        cluster = Located(topology.cluster)
        version = Located(topology.version)
        regions = Located(topology.regions.map {
            RegionDraft(name: Located($0.name), shards: Located($0.shards), storage: Located($0.storage))
        })
        latency = topology.latency.milliseconds.sorted { $0.key < $1.key }.map {
            LatencyDraft(key: Located($0.key.description), pair: $0.key, milliseconds: Located($0.value))
        }
        catalogPrimary = Located(topology.catalogPrimary)
        identityAuthority = Located(topology.identityAuthority)
        devLogin = topology.devLogin ? Located(true) : nil
        seeds = Located(topology.seeds.map { Located($0) })
        nodes = Located(topology.nodes.map {
            NodeDraft(
                location: .none, id: Located($0.id), region: Located($0.region), cluster: Located($0.cluster),
                gateway: Located($0.gateway), metrics: $0.metrics.map { Located($0) }, players: $0.holdsPlayers ? nil : Located(false)
            )
        })
    }
}
