import Distributed
import Foundation
import MeridianCluster

/// Hears that a player's session changed (queued, matched, idle), on the node that serves the
/// player's connection: the player's home tells it as it happens, so a gateway need not poll
/// the home while the player waits in a queue. A hint, not the state: the listener reads the
/// session from the home (the pushes of one change and the next may cross on the way).
public distributed actor SessionListener {
    public typealias ActorSystem = ClusterSystem

    private let handler: @Sendable (UUID) -> Void

    /// - Parameter handler: Called with the player whose session changed; must not block.
    public init(actorSystem: ClusterSystem, handler: @escaping @Sendable (UUID) -> Void) {
        self.actorSystem = actorSystem
        self.handler = handler
    }

    public distributed func sessionChanged(player: UUID) {
        handler(player)
    }
}
