import MeridianIdentity
import MeridianTopology

/// What a running cluster refuses in a new topology version, beyond the file's own rules: the
/// changes that would need data moved or a restart. Pure, so every node reaches the same
/// verdict and tests need no cluster.
public enum TopologyChangeRules {
    /// Why `new` cannot replace `old` live; empty when it can.
    public static func refusals(from old: Topology, to new: Topology) -> [String] {
        var refusals: [String] = []
        if new.cluster != old.cluster {
            refusals.append("the cluster's name changes (\(old.cluster) → \(new.cluster)); a topology applies to the cluster it names")
        }
        if new.catalogPrimary != old.catalogPrimary {
            refusals.append("catalog_primary changes (\(old.catalogPrimary) → \(new.catalogPrimary)); the catalog's history lives in the primary region: move it with a restart")
        }
        if new.identityAuthority != old.identityAuthority {
            refusals.append("identity_authority changes (\(old.identityAuthority) → \(new.identityAuthority)); the accounts live in that region: move them with a restart")
        } else if let before = IdentityPlacement.authorityNode(in: old), let after = IdentityPlacement.authorityNode(in: new), before != after {
            refusals.append("the identity authority would move from \(before) to \(after) (rendezvous over the nodes of \(new.identityAuthority)); keep \(before)'s place, e.g. add the node to another region or with another id")
        }
        for region in old.regions {
            guard let changed = new.region(named: region.name) else {
                refusals.append("region \(region.name) is removed, but it holds its players' data; move them out (player transfer) first")
                continue
            }
            if changed.storage != region.storage {
                refusals.append("the storage of region \(region.name) changes (\(region.storage) → \(changed.storage)); that needs its data moved and its nodes restarted")
            }
        }
        for node in old.nodes {
            guard let changed = new.node(id: node.id) else {
                if node.holdsPlayers, old.region(named: node.region)?.nodesShareStorage == false {
                    refusals.append("node \(node.id) is removed, but its players' data is in its own SQLite file (region \(node.region) shares no store); transfer them first, or give the region PostgreSQL storage")
                }
                continue
            }
            if changed.region != node.region {
                refusals.append("node \(node.id) changes region (\(node.region) → \(changed.region)); remove it and add a node with a new id")
            }
            if changed.cluster != node.cluster || changed.gateway != node.gateway {
                refusals.append("node \(node.id) changes its cluster or gateway address; a running node cannot move: remove it and add a node with a new id")
            }
            if changed.holdsPlayers != node.holdsPlayers, new.region(named: changed.region)?.nodesShareStorage == false {
                refusals.append("node \(node.id) changes 'players:' in region \(node.region), whose nodes each keep their players in their own SQLite file")
            }
        }
        for node in new.nodes where old.node(id: node.id) == nil && node.holdsPlayers {
            if let region = new.region(named: node.region), region.nodesShareStorage == false, old.region(named: node.region) != nil {
                refusals.append("node \(node.id) joins region \(node.region), whose nodes each keep their players in their own SQLite file: add it with 'players: false' (it then runs shards, matches and a gateway), or give the region PostgreSQL storage")
            }
        }
        return refusals
    }
}
