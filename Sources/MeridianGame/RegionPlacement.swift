import MeridianCluster
import MeridianMembership
import MeridianTopology

/// Where a region's shards and matchmaker run now: rendezvous hashing over the region's
/// nodes that membership reports `up` (not the topology's list — a down node's shards move
/// to the others at once, and a joining node takes its share).
public struct RegionPlacement: Sendable {
    /// The matchmaker is placed like one more shard with this reserved number.
    static let matchmakerKey = -1

    let system: ClusterSystem
    let startTopology: Topology
    var membership: MembershipService { system.membership }

    public init(system: ClusterSystem, topology: Topology) {
        self.system = system
        self.startTopology = topology
    }

    /// Up nodes of `region`, sorted. None of this node's own region while it is cut off
    /// (``ClusterSystem/isCutOff(in:)``): it cannot prove it owns any shard, so it drains its
    /// shards and starts no match until it hears from the cluster again.
    public func liveNodes(in region: String) -> [String] {
        if region == system.region, system.isCutOff(in: system.topology(startedWith: startTopology)) { return [] }
        return Self.liveNodes(in: region, members: membership.members)
    }

    static func liveNodes(in region: String, members: [Member]) -> [String] {
        Array(Set(members.lazy.filter { $0.region == region && $0.status == .up }.map(\.id.node))).sorted()
    }

    /// Nodes of `region` not declared down (joining and suspect ones included), sorted: the
    /// ones that may still be running something the placement has moved away from them.
    public func possiblyAliveNodes(in region: String) -> [String] {
        Array(Set(membership.members.lazy.filter { $0.region == region && !$0.status.isTerminal }.map(\.id.node))).sorted()
    }

    public func shardCount(of region: String) -> Int {
        system.topology(startedWith: startTopology).region(named: region)?.shards ?? 0
    }

    public func shardOwner(region: String, shard: Int) -> String? {
        ShardPlacement.owner(region: region, shard: shard, nodes: liveNodes(in: region))
    }

    public func matchmakerNode(region: String) -> String? {
        ShardPlacement.owner(region: region, shard: Self.matchmakerKey, nodes: liveNodes(in: region))
    }

    /// The shards of `region` placed on `node` now.
    public func shards(of node: String, in region: String) -> [Int] {
        let nodes = liveNodes(in: region)
        return (0..<shardCount(of: region)).filter { ShardPlacement.owner(region: region, shard: $0, nodes: nodes) == node }
    }
}
