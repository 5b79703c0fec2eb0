import MeridianMembership
import MeridianTopology

extension ClusterSystem {
    /// Whether this node is cut off: its region has other nodes in `topology`, it sees none of
    /// them — nor any node of another region — `up`, and it has heard from no member for as long
    /// as the others wait before they declare a silent member down (the suspicion timeout).
    ///
    /// From inside, a node cannot tell "every other node crashed" from "my links are cut". A
    /// node that still hears from a node of another region is on the side that can decide (the
    /// failure detector probes a silent member through helpers in other regions, so a node only
    /// its own region's peer cannot reach is not declared down); one that hears from nobody is
    /// most likely the one cut off, and by now the rest of its region has declared it down and
    /// taken over. Such a node takes nothing it cannot prove is its own: no shard, no
    /// matchmaker and no other node's players (``RegionPlacement``,
    /// ``playerOwner(of:region:topology:)``); the players whose writes it serves stay fenced by
    /// the store. A node alone in its region is never cut off in this sense: cut off from the
    /// other regions it is its region, and it goes on serving the players whose home it is.
    public func isCutOff(in topology: Topology) -> Bool {
        let peers = Set(topology.nodes(in: region).map(\.id)).subtracting([nodeID])
        guard !peers.isEmpty else { return false }
        let members = membership.members
        let seesAnyone = members.contains { member in
            member.id.node != nodeID && member.status == .up && (member.region != region || peers.contains(member.id.node))
        }
        guard !seesAnyone, let silence = membership.silence else { return false }
        return silence >= membership.suspicionTimeout
    }
}
