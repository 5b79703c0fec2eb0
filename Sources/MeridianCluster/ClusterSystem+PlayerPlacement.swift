import Foundation
import MeridianTopology

extension ClusterSystem {
    /// The node serving `player` in `region` now, as this node's membership sees it (see
    /// ``PlayerPlacement/owner(of:region:topology:isDown:)``: a region sharing one store leaves
    /// out the nodes declared down).
    public func playerOwner(of player: UUID, region: String, topology: Topology) -> String? {
        let membership = membership
        return PlayerPlacement.owner(of: player, region: region, topology: topology) { membership.isDeclaredDown(node: $0) }
    }
}
