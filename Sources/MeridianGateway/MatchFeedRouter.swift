import Distributed
import Foundation
import Logging
import MeridianCluster
import MeridianGame
import MeridianMatchmaking
import MeridianRegion
import MeridianWire
import Synchronization

/// Where a match's events for this gateway's clients go: one ``MatchSubscriber`` per match
/// that has players here, fanning frames out to the players' outboxes as deltas (droppable)
/// and phase changes and results as reliable messages.
final class MatchFeedRouter: Sendable {
    /// One client playing a match through this gateway.
    struct Player: Sendable {
        let outbox: ClientOutbox
        /// Called when the match ended or delivered this player's result.
        let finished: @Sendable (UUID) -> Void
    }

    private struct Feed {
        var subscriber: MatchSubscriber
        var players: [UUID: Player] = [:]
    }

    private let feeds = Mutex<[UUID: Feed]>([:])
    private let system: ClusterSystem
    private let logger: Logger

    init(system: ClusterSystem, logger: Logger) {
        self.system = system
        self.logger = logger
    }

    /// Sends `player`'s share of `match` to `client` from now on (replacing an earlier connection's).
    func attach(player: UUID, to match: MatchActor, matchID: UUID, client: Player) async throws {
        let subscriber = feeds.withLock { feeds -> MatchSubscriber in
            if let feed = feeds[matchID] {
                feeds[matchID]?.players[player] = client
                return feed.subscriber
            }
            let subscriber = MatchSubscriber(actorSystem: system) { [weak self] event in self?.route(event) }
            feeds[matchID] = Feed(subscriber: subscriber, players: [player: client])
            return subscriber
        }
        try await match.subscribe(player: player, subscriber: subscriber.id)
    }

    func detach(player: UUID, matchID: UUID) {
        feeds.withLock { feeds in
            feeds[matchID]?.players[player] = nil
            if feeds[matchID]?.players.isEmpty == true { feeds[matchID] = nil }
        }
    }

    private func players(of matchID: UUID) -> [UUID: Player] {
        feeds.withLock { $0[matchID]?.players ?? [:] }
    }

    private func route(_ event: MatchFeedEvent) {
        switch event {
        case .frame(let frame):
            let players = players(of: frame.matchID)
            let matchID = frame.matchID.uuidString.lowercased()
            for (player, packet) in frame.packets {
                guard let client = players[player] else { continue }
                var message = Meridian_Client_V1_ServerMessage()
                message.delta.matchID = matchID
                message.delta.tick = frame.tick
                message.delta.entity = UInt32(packet.entity)
                message.delta.lastInput = packet.lastInput
                message.delta.packet = Data(packet.bytes)
                client.outbox.offerDelta(message)
            }
        case .phase(let matchID, let phase, let tickRate):
            var message = Meridian_Client_V1_ServerMessage()
            message.matchEvent.matchID = matchID.uuidString.lowercased()
            message.matchEvent.phase = phase
            message.matchEvent.tickRate = UInt32(tickRate)
            for client in players(of: matchID).values { client.outbox.send(message) }
        case .results(let matchID, let results):
            let players = players(of: matchID)
            for result in results {
                guard let client = players[result.player] else { continue }
                var message = Meridian_Client_V1_ServerMessage()
                message.result.matchID = matchID.uuidString.lowercased()
                message.result.outcome = result.outcome
                message.result.placement = Int32(clamping: result.placement)
                message.result.xp = result.xp
                message.result.rewards = result.rewards
                message.result.rating = result.skillAfter?.rating ?? 0
                client.outbox.send(message)
                client.finished(matchID)
            }
        case .ended(let matchID):
            let players = feeds.withLock { $0.removeValue(forKey: matchID)?.players ?? [:] }
            for client in players.values { client.finished(matchID) }
        }
    }
}
