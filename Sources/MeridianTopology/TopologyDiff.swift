/// What changes between two topologies, as shown by `meridian topology diff` before an apply.
public struct TopologyDiff: Sendable, Equatable, CustomStringConvertible {
    /// One difference. Storage URLs appear as given; ``description`` redacts their passwords.
    public enum Change: Sendable, Equatable {
        /// The cluster name changed (nodes of the old name will refuse the new one).
        case clusterRenamed(from: String, to: String)
        /// The topology version changed.
        case versionChanged(from: Int, to: Int)
        /// A region only in the new topology.
        case regionAdded(Region)
        /// A region only in the old topology.
        case regionRemoved(Region)
        /// A region's shard count changed; shard ids and owners are recomputed.
        case regionShardsChanged(region: String, from: Int, to: Int)
        /// A region's storage URL changed.
        case regionStorageChanged(region: String, from: String, to: String)
        /// A node only in the new topology.
        case nodeAdded(Node)
        /// A node only in the old topology.
        case nodeRemoved(Node)
        /// A node moved to another region.
        case nodeRegionChanged(node: String, from: String, to: String)
        /// One of a node's addresses changed. `role` is `cluster`, `gateway` or `metrics`; `nil` means
        /// no address (metrics only).
        case nodeAddressChanged(node: String, role: String, from: HostPort?, to: HostPort?)
        case nodePlayersChanged(node: String, holdsPlayers: Bool)
        /// A latency entry was added, removed or changed; `nil` means the pair is not listed (no delay).
        case latencyChanged(RegionPair, fromMilliseconds: Int?, toMilliseconds: Int?)
        /// The catalog primary region changed.
        case catalogPrimaryChanged(from: String, to: String)
        /// The identity authority region changed.
        case identityAuthorityChanged(from: String, to: String)
        /// `dev_login` was switched on or off.
        case devLoginChanged(from: Bool, to: Bool)
        /// The seed list changed (order included).
        case seedsChanged(from: [String], to: [String])
    }

    /// Every difference, grouped as: header, regions, nodes, latency, roles, seeds.
    public let changes: [Change]

    /// Compares `old` with `new`.
    public init(old: Topology, new: Topology) {
        var changes: [Change] = []
        if old.cluster != new.cluster { changes.append(.clusterRenamed(from: old.cluster, to: new.cluster)) }
        if old.version != new.version { changes.append(.versionChanged(from: old.version, to: new.version)) }
        changes += Self.regionChanges(old, new)
        changes += Self.nodeChanges(old, new)
        let pairs = Set(old.latency.milliseconds.keys).union(new.latency.milliseconds.keys).sorted()
        for pair in pairs {
            let before = old.latency.milliseconds[pair], after = new.latency.milliseconds[pair]
            if before != after { changes.append(.latencyChanged(pair, fromMilliseconds: before, toMilliseconds: after)) }
        }
        if old.catalogPrimary != new.catalogPrimary {
            changes.append(.catalogPrimaryChanged(from: old.catalogPrimary, to: new.catalogPrimary))
        }
        if old.identityAuthority != new.identityAuthority {
            changes.append(.identityAuthorityChanged(from: old.identityAuthority, to: new.identityAuthority))
        }
        if old.devLogin != new.devLogin { changes.append(.devLoginChanged(from: old.devLogin, to: new.devLogin)) }
        if old.seeds != new.seeds { changes.append(.seedsChanged(from: old.seeds, to: new.seeds)) }
        self.changes = changes
    }

    /// True when the two topologies are the same.
    public var isEmpty: Bool { changes.isEmpty }

    /// Nodes only in the new topology.
    public var addedNodes: [Node] {
        changes.compactMap { if case .nodeAdded(let node) = $0 { node } else { nil } }
    }

    /// Nodes only in the old topology.
    public var removedNodes: [Node] {
        changes.compactMap { if case .nodeRemoved(let node) = $0 { node } else { nil } }
    }

    /// Regions only in the new topology.
    public var addedRegions: [Region] {
        changes.compactMap { if case .regionAdded(let region) = $0 { region } else { nil } }
    }

    /// Regions only in the old topology.
    public var removedRegions: [Region] {
        changes.compactMap { if case .regionRemoved(let region) = $0 { region } else { nil } }
    }

    /// One line per change (`+` added, `-` removed, `~` changed), or `no changes`.
    public var description: String {
        isEmpty ? "no changes" : changes.map(\.description).joined(separator: "\n")
    }

    private static func regionChanges(_ old: Topology, _ new: Topology) -> [Change] {
        var changes: [Change] = []
        for region in old.regions where new.region(named: region.name) == nil {
            changes.append(.regionRemoved(region))
        }
        for region in new.regions {
            guard let before = old.region(named: region.name) else {
                changes.append(.regionAdded(region))
                continue
            }
            if before.shards != region.shards {
                changes.append(.regionShardsChanged(region: region.name, from: before.shards, to: region.shards))
            }
            if before.storage != region.storage {
                changes.append(.regionStorageChanged(region: region.name, from: before.storage, to: region.storage))
            }
        }
        return changes
    }

    private static func nodeChanges(_ old: Topology, _ new: Topology) -> [Change] {
        var changes: [Change] = []
        for node in old.nodes where new.node(id: node.id) == nil {
            changes.append(.nodeRemoved(node))
        }
        for node in new.nodes {
            guard let before = old.node(id: node.id) else {
                changes.append(.nodeAdded(node))
                continue
            }
            if before.region != node.region {
                changes.append(.nodeRegionChanged(node: node.id, from: before.region, to: node.region))
            }
            let roles: [(String, HostPort?, HostPort?)] = [
                ("cluster", before.cluster, node.cluster),
                ("gateway", before.gateway, node.gateway),
                ("metrics", before.metrics, node.metrics),
            ]
            for (role, from, to) in roles where from != to {
                changes.append(.nodeAddressChanged(node: node.id, role: role, from: from, to: to))
            }
            if before.holdsPlayers != node.holdsPlayers {
                changes.append(.nodePlayersChanged(node: node.id, holdsPlayers: node.holdsPlayers))
            }
        }
        return changes
    }
}

extension TopologyDiff.Change: CustomStringConvertible {
    /// One report line, e.g. `+ node eu-west-3 (eu-west) 127.0.0.1:7403`, `~ region eu-west shards 16 -> 32`.
    public var description: String {
        func address(_ hostPort: HostPort?) -> String { hostPort?.description ?? "none" }
        func milliseconds(_ value: Int?) -> String { value.map { "\($0)ms" } ?? "none" }
        switch self {
        case .clusterRenamed(let from, let to):
            return "~ cluster \(from) -> \(to)"
        case .versionChanged(let from, let to):
            return "~ version \(from) -> \(to)"
        case .regionAdded(let region):
            return "+ region \(region.name) (\(region.shards) shards, \(region.redactedStorage))"
        case .regionRemoved(let region):
            return "- region \(region.name) (\(region.shards) shards, \(region.redactedStorage))"
        case .regionShardsChanged(let region, let from, let to):
            return "~ region \(region) shards \(from) -> \(to)"
        case .regionStorageChanged(let region, let from, let to):
            return "~ region \(region) storage \(StorageURL.redacted(from)) -> \(StorageURL.redacted(to))"
        case .nodeAdded(let node):
            return "+ node \(node.id) (\(node.region)) \(node.cluster)"
        case .nodeRemoved(let node):
            return "- node \(node.id) (\(node.region)) \(node.cluster)"
        case .nodeRegionChanged(let node, let from, let to):
            return "~ node \(node) region \(from) -> \(to)"
        case .nodeAddressChanged(let node, let role, let from, let to):
            return "~ node \(node) \(role) \(address(from)) -> \(address(to))"
        case .nodePlayersChanged(let node, let holdsPlayers):
            return "~ node \(node) players \(!holdsPlayers) -> \(holdsPlayers)"
        case .latencyChanged(let pair, let from, let to):
            switch (from, to) {
            case (nil, let to?): return "+ latency \(pair) \(to)ms"
            case (let from?, nil): return "- latency \(pair) \(from)ms"
            default: return "~ latency \(pair) \(milliseconds(from)) -> \(milliseconds(to))"
            }
        case .catalogPrimaryChanged(let from, let to):
            return "~ catalog_primary \(from) -> \(to)"
        case .identityAuthorityChanged(let from, let to):
            return "~ identity_authority \(from) -> \(to)"
        case .devLoginChanged(let from, let to):
            return "~ dev_login \(from) -> \(to)"
        case .seedsChanged(let from, let to):
            return "~ seeds [\(from.joined(separator: ", "))] -> [\(to.joined(separator: ", "))]"
        }
    }
}
