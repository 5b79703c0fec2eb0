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
        do {
            reason = try await call { try await self.context.game.withMatchmaker(of: region) { try await $0.enqueue(queueTicket) } }
        } catch where error.code == .refused && members.count > 1 {
            // Which member refused, and why (offline, busy, never accepted), is theirs to know.
            throw GatewayError(.refused, "your party cannot queue now: every member must have accepted your invitation, be online and be free to play")
        }
        ticket = (queueTicket.id, region)
        var reply = queueStatus(id, queued: true, reason: reason)
        reply.queueStatus.ticketID = queueTicket.id.uuidString.lowercased()
        outbox.send(reply)
        followQueue(player: player, homeRegion: homeRegion)
    }

    /// Follows the player's session while queued — now, whenever the home says it changed, and
    /// every ``GatewayConfiguration/sessionPollInterval`` in case a hint was lost — and when the
    /// matchmaker seats the player, subscribes to the match.
    func followQueue(player: UUID, homeRegion: String) {
        poller?.cancel()
        let interval = context.configuration.sessionPollInterval
        let clock = context.system.clock
        poller = Task {
            while !Task.isCancelled {
                let next = clock.now.advanced(by: interval)
                if await self.checkQueue(player: player, homeRegion: homeRegion) { return }
                try? await clock.sleep(until: next)
            }
        }
    }

    /// The player's home says the session changed.
    func sessionChanged() async {
        guard let player, let homeRegion else { return }
        guard ticket != nil else {
            // Idle here: the player's party leader may have queued it.
            guard match == nil, let session = try? await context.directory.home(of: player, region: homeRegion).currentSession(),
                  ticket == nil, match == nil
            else { return }
            switch session {
            case .queued(let queued, let region):
                ticket = (queued.id, region)
                var push = queueStatus(0, queued: true, reason: "queued by your party's leader")
                push.queueStatus.ticketID = queued.id.uuidString.lowercased()
                outbox.send(push)
                followQueue(player: player, homeRegion: homeRegion)
            case .inMatch(let assignment):
                await enter(assignment, player: player, resumed: false)
            case .idle:
                break
            }
            return
        }
        if await checkQueue(player: player, homeRegion: homeRegion) { poller?.cancel() }
    }

    /// Reads the session of a queued player; true once the queue is over (seated or ended).
    func checkQueue(player: UUID, homeRegion: String) async -> Bool {
        guard let ticketID = ticket?.id else { return true }
        guard let session = try? await context.directory.home(of: player, region: homeRegion).currentSession() else { return false }
        guard ticket?.id == ticketID else { return ticket == nil }  // the client queued again meanwhile
        switch session {
        case .queued:
            return false
        case .inMatch(let assignment):
            await enter(assignment, player: player, resumed: false)
            return true
        case .idle:
            queueEnded()
            return true
        }
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
            watchHome(while: assignment.matchID, player: player)
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

    func watchHome(while matchID: UUID, player: UUID) {
        matchWatch?.cancel()
        guard let homeRegion else { return }
        let clock = context.system.clock
        let first = clock.now.advanced(by: Self.matchWatchInterval)
        matchWatch = Task {
            var next = first
            while !Task.isCancelled {
                try? await clock.sleep(until: next)
                next = max(next.advanced(by: Self.matchWatchInterval), clock.now)
                guard !Task.isCancelled, let home = try? self.context.directory.home(of: player, region: homeRegion),
                      let session = try? await home.currentSession()
                else { continue }
                if case .inMatch(let current) = session, current.matchID == matchID { continue }
                self.matchFinished(matchID, resultDelivered: false)
                return
            }
        }
    }

    /// The player's match is over here. Once the home applied the outcome (the player is no
    /// longer in that match there), push the new profile — and the result itself, from the
    /// home's history, when the match's own result never reached this gateway.
    func matchFinished(_ matchID: UUID, resultDelivered: Bool) {
        guard match?.matchID == matchID, let player else { return }
        context.router.detach(player: player, matchID: matchID)
        match = nil
        matchWatch?.cancel()
        guard let homeRegion else { return }
        let clock = context.system.clock
        Task {
            guard let home = try? self.context.directory.home(of: player, region: homeRegion) else { return }
            // The home applies the outcome shortly after the match ends; wait for it up to 30 s.
            let deadline = clock.now.advanced(by: .seconds(30))
            var next = clock.now
            while next < deadline {
                guard case .inMatch(let current)? = try? await home.currentSession(), current.matchID == matchID else { break }
                next = next.advanced(by: .milliseconds(100))
                try? await clock.sleep(until: next)
            }
            if !resultDelivered {
                var message = Meridian_Client_V1_ServerMessage()
                message.result.matchID = matchID.uuidString.lowercased()
                if let entry = try? await home.recentMatches(limit: 20).first(where: { $0.matchID == matchID }) {
                    message.result.outcome = entry.outcome
                    message.result.xp = entry.xp
                } else {
                    message.result.outcome = "abandoned"  // no outcome recorded: nothing was paid
                }
                self.outbox.send(message)
            }
            if let view = try? await home.view() { self.outbox.send(Self.profile(view, requestID: 0)) }
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
