import Foundation
import MeridianCluster
import MeridianTopology

/// Finds a player's actor from anywhere: the node serving the player in its home region
/// (``ClusterSystem/playerOwner(of:region:topology:)``).
public struct PlayerDirectory: Sendable {
    public let system: ClusterSystem
    /// The topology in force (live: a node added by `meridian topology apply` takes its share).
    public var topology: Topology { system.topology(startedWith: startTopology) }
    private let startTopology: Topology

    public init(system: ClusterSystem, topology: Topology) {
        self.system = system
        self.startTopology = topology
    }

    /// The player's actor in `homeRegion` (the identity directory's answer).
    public func home(of player: UUID, region homeRegion: String) throws -> PlayerHome {
        guard let owner = system.playerOwner(of: player, region: homeRegion, topology: topology) else {
            throw ClusterError(.nodeUnreachable, "region \(homeRegion) has no nodes in the topology")
        }
        return try PlayerHome.resolve(
            id: ClusterActorID(node: owner, incarnation: 0, path: PlayerPlacement.path(of: player)),
            using: system
        )
    }
}
