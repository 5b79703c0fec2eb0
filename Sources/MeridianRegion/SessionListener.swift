import Distributed
import Foundation
import MeridianCluster

/// Hears about a player's session on the node that serves the player's connection: the
/// player's home tells it as it happens (queued, matched, idle), so a gateway need not poll the
/// home while the player waits in a queue, and tells it when a newer connection elsewhere took
/// the player over. A change is a hint, not the state: the listener reads the session from the
/// home (the pushes of one change and the next may cross on the way).
public distributed actor SessionListener {
    public typealias ActorSystem = ClusterSystem

    public enum Event: Sendable {
        /// The session changed; read it from the home.
        case changed
        /// Another connection (on another node) logged in as the player: close this one.
        case replaced
        /// `leader` invited the player into its party: tell the client.
        case invited(leader: UUID, leaderName: String)
    }

    private let handler: @Sendable (UUID, Event) -> Void

    /// - Parameter handler: Called with the player and what happened; must not block.
    public init(actorSystem: ClusterSystem, handler: @escaping @Sendable (UUID, Event) -> Void) {
        self.actorSystem = actorSystem
        self.handler = handler
    }

    public distributed func sessionChanged(player: UUID) {
        handler(player, .changed)
    }

    public distributed func sessionReplaced(player: UUID) {
        handler(player, .replaced)
    }

    public distributed func partyInvited(player: UUID, leader: UUID, leaderName: String) {
        handler(player, .invited(leader: leader, leaderName: String(leaderName.utf8.prefix(64)) ?? ""))
    }
}
