import Foundation
import MeridianCluster
import MeridianTopology

/// Finds a player's actor from anywhere: the owner node in the player's home region.
public struct PlayerDirectory: Sendable {
    public let system: ClusterSystem
    public let topology: Topology

    public init(system: ClusterSystem, topology: Topology) {
        self.system = system
        self.topology = topology
    }

    /// The player's actor in `homeRegion` (the identity layer will supply the region later).
    public func home(of player: UUID, region homeRegion: String) throws -> PlayerHome {
        guard let owner = PlayerPlacement.owner(of: player, region: homeRegion, topology: topology) else {
            throw ClusterError(.nodeUnreachable, "region \(homeRegion) has no nodes in the topology")
        }
        return try PlayerHome.resolve(
            id: ClusterActorID(node: owner, incarnation: 0, path: PlayerPlacement.path(of: player)),
            using: system
        )
    }
}
