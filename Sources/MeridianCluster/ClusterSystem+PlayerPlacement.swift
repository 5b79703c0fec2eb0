import Foundation
import MeridianTopology

extension ClusterSystem {
    /// The node serving `player` in `region` now, as this node's membership sees it (see
    /// ``PlayerPlacement/owner(of:region:topology:isDown:)``: a region sharing one store leaves
    /// out the nodes declared down). A node cut off from its region (``isCutOff(in:)``) takes
    /// over nobody's players: for it, every node of its own region still serves its own.
    public func playerOwner(of player: UUID, region: String, topology: Topology) -> String? {
        let membership = membership
        let cutOff = region == self.region && isCutOff(in: topology)
        return PlayerPlacement.owner(of: player, region: region, topology: topology) { !cutOff && membership.isDeclaredDown(node: $0) }
    }
}
