/// Decides which node owns each shard of a region by rendezvous (highest-random-weight) hashing.
///
/// Every node computes the same answer from the same inputs with no coordination. When a node joins,
/// only the shards it now wins move (to it); when a node leaves, only its shards move. Callers pass the
/// region's *live* nodes, so a failed node's shards spread over the survivors.
public enum ShardPlacement {
    /// The node that owns `shard` of `region`, or `nil` when `nodes` is empty. Order and repeats in
    /// `nodes` do not matter.
    public static func owner(region: String, shard: Int, nodes: [String]) -> String? {
        var best: (node: String, weight: UInt64)?
        for node in nodes {
            let weight = weight(region: region, shard: shard, node: node)
            // Ties (astronomically rare) go to the smaller id, so the result never depends on list order.
            if let current = best, weight < current.weight || (weight == current.weight && node >= current.node) {
                continue
            }
            best = (node, weight)
        }
        return best?.node
    }

    /// Owners of shards `0..<shardCount`; empty when there are no nodes or no shards.
    public static func assignments(region: String, shardCount: Int, nodes: [String]) -> [Int: String] {
        guard shardCount > 0, !nodes.isEmpty else { return [:] }
        var result: [Int: String] = [:]
        result.reserveCapacity(shardCount)
        for shard in 0..<shardCount {
            result[shard] = owner(region: region, shard: shard, nodes: nodes)
        }
        return result
    }

    /// The score of `node` for one shard; part of the cluster protocol, since every node must agree.
    /// Changing it moves shards between nodes of different versions: treat it like a wire format.
    static func weight(region: String, shard: Int, node: String) -> UInt64 {
        var hash = StableHash()
        hash.combine(region)
        hash.combine(UInt64(bitPattern: Int64(shard)))
        hash.combine(node)
        return hash.finalize()
    }
}
