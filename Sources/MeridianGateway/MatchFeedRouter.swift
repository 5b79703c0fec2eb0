import Distributed
import Foundation
import Logging
import MeridianCluster
import MeridianGame
import MeridianMatchmaking
import MeridianMembership
import MeridianRegion
import MeridianStorage
import MeridianWire
import Synchronization

/// Where a match's events for this gateway's clients go, and their inputs come from: per match
/// that has players here, one ``MatchSubscriber`` fanning frames out to the players' outboxes
/// as deltas (droppable) and phase changes and results as reliable messages, and one
/// ``MatchUplink`` batching the players' inputs and acks to the match. A match whose node leaves the
/// membership (crashed) ends for its players here with a `server_lost` result: nothing else
/// would ever tell them (their homes record the same outcome, see `GameServices`).
final class MatchFeedRouter: Sendable {
    /// One client playing a match through this gateway.
    struct Player: Sendable {
        let outbox: ClientOutbox
        /// Called when the match delivered this player's result (`true`) or ended without one
        /// reaching this gateway (`false`).
        let finished: @Sendable (_ matchID: UUID, _ resultDelivered: Bool) -> Void
    }

    private struct Feed {
        var match: MatchActor
        var subscriber: MatchSubscriber
        var uplink: MatchUplink
        /// The node incarnation running the match.
        var host: MemberID
        var players: [UUID: Player] = [:]
        var counts = FeedCounts()
    }

    /// What one match's feed brought this gateway so far.
    struct FeedCounts: Sendable, Hashable {
        /// Feed messages (one per tick the match sent here, for all its players here).
        var frames = 0
        /// Player packets in them.
        var packets = 0
        /// Frames whose tick was not newer than the previous frame's (a second message for one tick).
        var repeatedTicks = 0
        var lastTick: UInt32?
    }

    /// The counts of `matchID`'s feed, while it has players here.
    func counts(of matchID: UUID) -> FeedCounts? {
        feeds.withLock { $0[matchID]?.counts }
    }

    private let feeds = Mutex<[UUID: Feed]>([:])
    private let system: ClusterSystem
    private let logger: Logger

    init(system: ClusterSystem, logger: Logger) {
        self.system = system
        self.logger = logger
    }

    /// Sends `player`'s share of `match` to `client` from now on (replacing an earlier
    /// connection's). Returns the uplink that takes the player's inputs and acks to the match.
    func attach(player: UUID, to match: MatchActor, assignment: MatchAssignment, client: Player) async throws -> MatchUplink {
        let matchID = assignment.matchID
        let host = MemberID(node: assignment.node, incarnation: assignment.incarnation)
        let feed = feeds.withLock { feeds -> Feed in
            var feed = feeds[matchID] ?? Feed(
                match: match,
                subscriber: MatchSubscriber(actorSystem: system) { [weak self] event in self?.route(event) },
                uplink: MatchUplink(match: match), host: host
            )
            feed.players[player] = client
            feeds[matchID] = feed
            return feed
        }
        if system.membership.members.contains(where: { $0.id == host && $0.status.isTerminal }) {
            lost(host)
            return feed.uplink
        }
        try await match.subscribe(player: player, subscriber: feed.subscriber.id)
        return feed.uplink
    }

    /// Ends the matches of nodes that leave the membership, until cancelled.
    func watchMembership() async {
        for await change in system.membership.changes() where change.current.isTerminal {
            lost(change.member.id)
        }
    }

    /// Every match `host` ran is over: its players here get a `server_lost` result.
    private func lost(_ host: MemberID) {
        let ended = feeds.withLock { feeds -> [UUID: Feed] in
            var ended: [UUID: Feed] = [:]
            for (matchID, feed) in feeds where feed.host == host {
                ended[matchID] = feed
                feeds[matchID] = nil
            }
            return ended
        }
        for (matchID, feed) in ended {
            feed.uplink.close()
            let players = feed.players
            logger.info("match lost with its node", metadata: ["meridian.match": "\(matchID)", "meridian.node": "\(host)"])
            for client in players.values {
                var message = Meridian_Client_V1_ServerMessage()
                message.result.matchID = matchID.uuidString.lowercased()
                message.result.outcome = MatchOutcome.serverLost.rawValue
                client.outbox.send(message)
                client.finished(matchID, true)
            }
        }
    }

    func detach(player: UUID, matchID: UUID) {
        let emptied = feeds.withLock { feeds -> Feed? in
            feeds[matchID]?.players[player] = nil
            guard feeds[matchID]?.players.isEmpty == true else { return nil }
            return feeds.removeValue(forKey: matchID)
        }
        guard let emptied else { return }
        emptied.uplink.close()
        // The match stops sending here (best effort: it also stops when it ends).
        let (match, subscriber) = (emptied.match, emptied.subscriber.id)
        Task { try? await match.unsubscribe(subscriber) }
    }

    private func players(of matchID: UUID) -> [UUID: Player] {
        feeds.withLock { $0[matchID]?.players ?? [:] }
    }

    private func route(_ event: MatchFeedEvent) {
        switch event {
        case .frame(let frame):
            let players = feeds.withLock { feeds -> [UUID: Player] in
                guard feeds[frame.matchID] != nil else { return [:] }
                feeds[frame.matchID]!.counts.count(frame)
                return feeds[frame.matchID]!.players
            }
            let matchID = frame.matchID.uuidString.lowercased()
            var wakes = ClientOutbox.Wakes()
            defer { wakes.wake() }
            for (player, packet) in frame.packets {
                guard let client = players[player] else { continue }
                var message = Meridian_Client_V1_ServerMessage()
                message.delta.matchID = matchID
                message.delta.tick = frame.tick
                message.delta.entity = UInt32(packet.entity)
                message.delta.lastInput = packet.lastInput
                message.delta.packet = Data(packet.bytes)
                client.outbox.offerDelta(message, wakes: &wakes)
            }
        case .phase(let matchID, let phase, let tickRate):
            var message = Meridian_Client_V1_ServerMessage()
            message.matchEvent.matchID = matchID.uuidString.lowercased()
            message.matchEvent.phase = phase
            message.matchEvent.tickRate = UInt32(tickRate)
            for client in players(of: matchID).values { client.outbox.send(message) }
        case .results(let matchID, let results):
            // Taken out of the feed: a result delivered twice (a retried call) reaches a client once.
            let players = feeds.withLock { feeds -> [UUID: Player] in
                var taken: [UUID: Player] = [:]
                for result in results { taken[result.player] = feeds[matchID]?.players.removeValue(forKey: result.player) }
                return taken
            }
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
                client.finished(matchID, true)
            }
        case .ended(let matchID):
            guard let feed = feeds.withLock({ $0.removeValue(forKey: matchID) }) else { return }
            feed.uplink.close()
            for client in feed.players.values { client.finished(matchID, false) }
        }
    }
}

extension MatchFeedRouter.FeedCounts {
    mutating func count(_ frame: MatchFrame) {
        frames += 1
        packets += frame.packets.count
        if let lastTick, frame.tick <= lastTick { repeatedTicks += 1 }
        lastTick = frame.tick
    }
}
