import Distributed
import Foundation
import MeridianCluster
import MeridianRegion

/// What a match tells the node that serves some of its players (a gateway, or a test).
public enum MatchFeedEvent: Sendable, Hashable {
    /// One tick's packets for the subscribed players. Droppable: the next packet is a delta
    /// against the player's last acknowledged snapshot, so a lost frame costs nothing.
    case frame(MatchFrame)
    /// The match moved to `phase` (reliable).
    case phase(matchID: UUID, phase: String, tickRate: Int)
    /// Results of subscribed players (reliable; their homes apply them exactly once).
    case results(matchID: UUID, [MatchResultMessage])
    /// The match is gone; nothing more will come (reliable).
    case ended(matchID: UUID)
}

/// Receives a match's events for the players it serves, on the subscriber's node. The match
/// calls it in order per kind (frames in tick order, reliable events in order).
public distributed actor MatchSubscriber {
    public typealias ActorSystem = ClusterSystem

    private let handler: @Sendable (MatchFeedEvent) -> Void

    /// - Parameter handler: Called for every event, one at a time; must not block.
    public init(actorSystem: ClusterSystem, handler: @escaping @Sendable (MatchFeedEvent) -> Void) {
        self.actorSystem = actorSystem
        self.handler = handler
    }

    public distributed func deliver(_ frame: MatchFrame) {
        handler(.frame(frame))
    }

    public distributed func phaseChanged(matchID: UUID, phase: String, tickRate: Int) {
        handler(.phase(matchID: matchID, phase: phase, tickRate: tickRate))
    }

    public distributed func results(matchID: UUID, _ results: [MatchResultMessage]) {
        handler(.results(matchID: matchID, results))
    }

    public distributed func matchEnded(_ matchID: UUID) {
        handler(.ended(matchID: matchID))
    }
}
