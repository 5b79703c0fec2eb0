import Foundation

/// Which node of a player's home region hosts the player's actor and data.
///
/// Rendezvous hashing over the region's nodes as the topology lists them (not only the live
/// ones): with embedded SQLite each node keeps its own database file, so a player's data is
/// on one node and must be served there. With PostgreSQL any node of the region could serve
/// (one database per region); moving to live-node placement for PostgreSQL is a later step.
public enum PlayerPlacement {
    public static func owner(of player: UUID, region: String, topology: Topology) -> String? {
        let nodes = topology.nodes(in: region).map(\.id)
        var hash = StableHash()
        hash.combine(player.uuidString.lowercased())
        let shard = Int(hash.finalize() % 1_048_576)
        return ShardPlacement.owner(region: region, shard: shard, nodes: nodes)
    }

    /// The player whose actor lives at `path`, if it is a player path.
    public static func player(atPath path: String) -> UUID? {
        guard path.hasPrefix("/player/") else { return nil }
        return UUID(uuidString: String(path.dropFirst("/player/".count)))
    }

    /// The path of a player's actor on its owner node.
    public static func path(of player: UUID) -> String {
        "/player/\(player.uuidString.lowercased())"
    }
}
