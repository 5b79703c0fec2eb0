import MeridianCluster
import MeridianTopology

/// Which node serves the identity authority: one node of the `identity_authority` region,
/// chosen by rendezvous hashing over the region's nodes as the topology lists them (those that
/// hold players' data: a `players: false` node keeps no accounts either).
///
/// With embedded SQLite each node has its own database file, so the accounts live on that one
/// node and the authority cannot move while it is down (logins that need it fail with
/// UNAVAILABLE; access tokens keep verifying everywhere, and directory reads are served from
/// every node's cache). With PostgreSQL the region's nodes share the store, so a later step can
/// place the authority on a live node instead.
public enum IdentityPlacement {
    /// The well-known path of the authority actor.
    public static let authorityPath = "/system/identity"
    /// The well-known path of every node's replica of the key set and directory.
    public static let replicaPath = "/system/identity-replica"

    public static func authorityNode(in topology: Topology) -> String? {
        let nodes = topology.nodes(in: topology.identityAuthority).filter(\.holdsPlayers).map(\.id)
        return ShardPlacement.owner(region: topology.identityAuthority, shard: 0, nodes: nodes)
    }
}
