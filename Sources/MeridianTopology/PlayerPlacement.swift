import Foundation

/// Which node of a player's home region hosts the player's actor and data.
///
/// Rendezvous hashing over the region's nodes as the topology lists them: with embedded SQLite
/// each node keeps its own database file, so a player's data is on one node and must be served
/// there. With PostgreSQL (one database per region) any node of the region can serve, so the
/// nodes declared down are left out and their players fail over (see ``owner(of:region:topology:isDown:)``).
public enum PlayerPlacement {
    /// The node whose actor serves `player` in `region`: rendezvous hashing over the region's
    /// nodes in the topology. Where the region's nodes share one store
    /// (``Region/nodesShareStorage``), nodes for which `isDown` holds are left out, so a player
    /// of a node declared down is re-activated on the next node in rank (and moves back when
    /// the node returns); the store's activation fence keeps one writer through such a move.
    /// With one SQLite file per node a player's data lives on one node only, so it stays there.
    public static func owner(of player: UUID, region: String, topology: Topology, isDown: (String) -> Bool = { _ in false }) -> String? {
        var nodes = topology.nodes(in: region).filter(\.holdsPlayers).map(\.id)
        if topology.region(named: region)?.nodesShareStorage == true {
            nodes.removeAll(where: isDown)
        }
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
