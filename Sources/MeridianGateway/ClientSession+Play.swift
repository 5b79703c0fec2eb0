import Distributed
import Foundation
import Logging
import MeridianCatalog
import MeridianClock
import MeridianCluster
import MeridianGame
import MeridianIdentity
import MeridianMatchmaking
import MeridianRegion
import MeridianSimulation
import MeridianStorage
import MeridianTopology
import MeridianWire
import Synchronization

/// Queueing and playing: the ticket, following the player's session to its match, the match's end.
extension ClientSession {
    func enqueue(_ queue: Meridian_Client_V1_Queue, id: UInt64, player: UUID, homeRegion: String) async throws(GatewayError) {
        guard match == nil else { throw GatewayError(.refused, "already in a match; finish or leave it first") }
        if let ticket {
            // Queued already (a retry of a request whose answer was lost, say): the same ticket.
            outbox.send(queued(id, ticket: ticket.id, reason: "already in the queue"))
            return
        }
        if let lastCancel {
            let wait = context.system.clock.now.duration(to: lastCancel.advanced(by: context.configuration.queueCooldown))
            guard wait <= .zero else {
                throw GatewayError(.refused, "you cancelled a moment ago; queue again in \(max(1, Int((wait / .milliseconds(1)).rounded(.up)))) ms")
            }
        }
        let region = queue.region.isEmpty ? context.region : queue.region
        guard context.topology.region(named: region) != nil else { throw GatewayError(.refused, "no region \(region) in the topology") }
        guard queue.party.count < 16 else { throw GatewayError(.refused, "a party has at most 16 members") }
        var members = [QueueTicket.Member(player: player, homeRegion: homeRegion)]
        for (index, text) in queue.party.enumerated() {
            // Where a member lives is the directory's word, never the client's; an unknown id is refused.
            guard let member = UUID(uuidString: text), member != player, !members.contains(where: { $0.player == member }),
                  let entry = try? await context.identity.entry(of: member), entry.state == .active
            else { throw GatewayError(.refused, "party member \(index + 1) is not a player who can play") }
            // Consent is checked by each member's actor when the matchmaker takes the ticket.
            members.append(.init(player: member, homeRegion: entry.homeRegion))
        }
        let queueTicket = QueueTicket(
            id: UUID(), members: members,
            rttMilliseconds: queue.rttMs.mapValues { Int(min($0, 60_000)) }.filter { context.topology.region(named: $0.key) != nil }
        )
        let reason: String
        enqueueing = true
        do {
            reason = try await call { try await self.context.game.withMatchmaker(of: region) { try await $0.enqueue(queueTicket) } }
            enqueueing = false
        } catch {
            enqueueing = false
            // The home holds a ticket: the party leader's (the player's own call was refused
            // for it), or this one when the call timed out after the home took it (its push came
            // while the call waited). Then the player is queued, and the client hears that
            // ticket. A refusal of this ticket is the matchmaker's final word: it rolled back
            // every member it had queued, even if the push saying so has not arrived yet.
            if match == nil, ticket == nil, case .queued(let held, let heldIn)? = homeSession?.session,
               held.id != queueTicket.id || error.code == .unavailable {
                ticket = (held.id, heldIn)
                outbox.send(queued(id, ticket: held.id, reason: "queued"))
                return
            }
            if error.code == .refused && members.count > 1 {
                // Which member refused, and why (offline, busy, never accepted), is theirs to know.
                throw GatewayError(.refused, "your party cannot queue now: every member must have accepted your invitation, be online and be free to play")
            }
            throw error
        }
        // The home's push of the match may have come before this reply: then the player is there.
        if match == nil { ticket = (queueTicket.id, region) }
        outbox.send(queued(id, ticket: queueTicket.id, reason: reason))
    }

    /// The answer to a Queue request (or a push, with `id` 0): queued with `ticket`.
    func queued(_ id: UInt64, ticket: UUID, reason: String) -> Meridian_Client_V1_ServerMessage {
        var reply = queueStatus(id, queued: true, reason: reason)
        reply.queueStatus.ticketID = ticket.uuidString.lowercased()
        return reply
    }

    /// The player's home pushed its session (``SessionListener``): follow it. A push older
    /// than the newest one seen (they may cross on the way) is ignored.
    func sessionPushed(_ session: PlayerSession, version: SessionVersion) async {
        if let current = homeSession, !current.version.isSuperseded(by: version) { return }
        homeSession = WatchedSession(session: session, version: version)
        await follow(session)
    }

    /// Brings the connection to where the player's home says the player is: queued by the
    /// party's leader, seated in a match (subscribe to it), or idle (a queue that ended, a match
    /// that ended without its feed telling this gateway). Also finishes a match whose outcome
    /// the home has now applied.
    func follow(_ session: PlayerSession) async {
        guard let player else { return }
        switch session {
        case .queued(let queued, let region):
            guard match == nil, !enqueueing, ticket?.id != queued.id else { break }
            ticket = (queued.id, region)
            outbox.send(self.queued(0, ticket: queued.id, reason: "queued by your party's leader"))
        case .inMatch(let assignment):
            await enter(assignment, player: player, resumed: false)
        case .idle:
            if let match {
                matchFinished(match.matchID, resultDelivered: false)
            } else if !enqueueing {
                queueEnded()
            }
        }
        completeFinishedMatch()
    }

    func queueEnded() {
        guard ticket != nil else { return }
        ticket = nil
        outbox.send(queueStatus(0, queued: false, reason: "the ticket left the queue"))
    }

    func enter(_ assignment: MatchAssignment, player: UUID, resumed: Bool) async {
        guard match?.matchID != assignment.matchID else { return }  // entered already (a hint and a check crossed)
        ticket = nil
        match = assignment
        var event = Meridian_Client_V1_ServerMessage()
        event.matchEvent.matchID = assignment.matchID.uuidString.lowercased()
        event.matchEvent.phase = "assigned"
        event.matchEvent.node = assignment.node
        event.matchEvent.region = assignment.region
        outbox.send(event)
        do {
            let matchActor = try context.game.match(assignment)
            let client = MatchFeedRouter.Player(outbox: outbox) { [weak self] matchID, delivered in
                Task { await self?.matchFinished(matchID, resultDelivered: delivered) }
            }
            let uplink = try await context.router.attach(player: player, to: matchActor, assignment: assignment, client: client)
            if match?.matchID == assignment.matchID { link.withLock { $0.uplink = (uplink, player) } }
            if resumed { try? await matchActor.reconnect(player: player) }
        } catch {
            // Not seated there (any more) or unreachable: the match will not talk to this
            // client. Its home still records the player's outcome of that match; follow it.
            context.logger.info("could not follow the player's match; waiting for its outcome at the player's home", metadata: [
                "meridian.match": "\(assignment.matchID)", "meridian.error": "\(error)",
            ])
            context.router.detach(player: player, matchID: assignment.matchID)
            matchFinished(assignment.matchID, resultDelivered: false)
        }
    }

    /// The player's match is over here (its result arrived, or it ended without one reaching
    /// this gateway): leave its feed, and finish once the home applied the outcome.
    func matchFinished(_ matchID: UUID, resultDelivered: Bool) {
        guard match?.matchID == matchID, let player else { return }
        context.router.detach(player: player, matchID: matchID)
        match = nil
        finishing = (matchID, resultDelivered)
        completeFinishedMatch()
    }

    /// Once the home no longer has the player in the match that finished here (its push said
    /// so), push the new profile — and the result itself, from the home's history, when the
    /// match's own result never reached this gateway.
    func completeFinishedMatch() {
        guard let finishing, let player, let homeRegion else { return }
        if case .inMatch(let current)? = homeSession?.session, current.matchID == finishing.matchID { return }  // its push will come
        self.finishing = nil
        let outbox = outbox
        let directory = context.directory
        Task {
            guard let home = try? directory.home(of: player, region: homeRegion) else { return }
            if !finishing.resultDelivered {
                var message = Meridian_Client_V1_ServerMessage()
                message.result.matchID = finishing.matchID.uuidString.lowercased()
                if let entry = try? await home.recentMatches(limit: 20).first(where: { $0.matchID == finishing.matchID }) {
                    message.result.outcome = entry.outcome
                    message.result.xp = entry.xp
                } else {
                    message.result.outcome = "abandoned"  // no outcome recorded: nothing was paid
                }
                outbox.send(message)
            }
            if let view = try? await home.view() { outbox.send(Self.profile(view, requestID: 0)) }
        }
    }

    /// The region's matchmaker did not hold the ticket (it moved with a lost node and has not
    /// heard of it again yet, or just matched it): end it at the player's home, which owns it —
    /// otherwise the home would queue it again at the new matchmaker. A ticket already matched
    /// is left alone (the home is in the match then, and refuses).
    func endQueueAtHome(_ ticketID: UUID, player: UUID, homeRegion: String) async {
        guard let home = try? context.directory.home(of: player, region: homeRegion) else { return }
        _ = try? await ClusterSystem.withCallTimeout(context.configuration.callTimeout) { @Sendable in
            try await home.endQueue(ticketID: ticketID)
        }
    }
}
