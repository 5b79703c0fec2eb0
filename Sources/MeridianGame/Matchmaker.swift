import Distributed
import Foundation
import Logging
import MeridianClock
import MeridianCluster
import MeridianMatchmaking
import MeridianRegion
import Metrics

/// The matchmaker of one region, at `/matchmaker/<region>` on the node the placement picks
/// among the region's live nodes. It owns a ``MatchmakingPool`` (the pure decisions) and
/// carries them out: starts formed matches on the region's shards, backfills lobbies, forwards
/// overflowing tickets to the nearest other region's matchmaker.
///
/// It keeps nothing durable. Each ticket is owned by its party leader's actor (the player's
/// session in the home region); when the matchmaker's node is lost, the placement picks
/// another node and every ticket owner queues its ticket there again (``GameServices``).
public distributed actor Matchmaker {
    public typealias ActorSystem = ClusterSystem

    public nonisolated static func path(region: String) -> String {
        "/matchmaker/\(region)"
    }

    let region: String
    let game: GameServicesReference
    let logger: Logger
    private var pool: MatchmakingPool
    private let origin: AnyClock.Instant
    private var tickets: [UUID: QueueTicket] = [:]
    private var skills: [UUID: SkillRating] = [:]
    /// Matches still in LOBBY open to backfill, with when the lobby closes.
    private var lobbies: [UUID: (assignment: MatchAssignment, closesAt: AnyClock.Instant)] = [:]
    private var loop: Task<Void, Never>?
    /// Tickets matched in the last 30 s (being assigned), so they are not queued again meanwhile.
    private var recentlyMatched: [UUID: AnyClock.Instant] = [:]
    private let neighbours: [String]
    private var configuration: MatchmakingConfiguration
    private let passInterval: Duration = .milliseconds(100)

    init(region: String, neighbours: [String], rules: GameRules, game: GameServicesReference, logger: Logger, actorSystem: ClusterSystem) {
        self.region = region
        self.game = game
        self.logger = logger
        self.neighbours = neighbours
        self.configuration = rules.matchmaking
        self.pool = MatchmakingPool(region: region, neighbours: neighbours, configuration: rules.matchmaking)
        self.origin = actorSystem.clock.now
        self.actorSystem = actorSystem
    }

    /// The node's clock: passes, lobby windows and the pool's waits run on it.
    private var clock: AnyClock { actorSystem.clock }

    /// Time since this matchmaker started, the pool's time line.
    private var now: Duration { origin.duration(to: clock.now) }

    // MARK: Distributed API

    /// Queues a ticket (idempotent by ticket id). Every member's actor must accept it (not
    /// queued elsewhere, not in a match) and supplies the member's rating.
    /// - Returns: the ticket's status.
    public distributed func enqueue(_ ticket: QueueTicket) async throws -> String {
        try await admit(ticket, resuming: false)
    }

    /// Takes a ticket again from its owner after this matchmaker moved (its node was lost):
    /// only while every member still waits with it (see `PlayerHome.continueQueue`).
    public distributed func requeue(_ ticket: QueueTicket) async throws -> String {
        try await admit(ticket, resuming: true)
    }

    private func admit(_ ticket: QueueTicket, resuming: Bool) async throws -> String {
        guard let game = game.value, game.placement.matchmakerNode(region: region) == actorSystem.nodeID else {
            throw GameError(.notMatchmaker, "node \(actorSystem.nodeID) is not the matchmaker of \(region) now; resolve it again")
        }
        if tickets[ticket.id] != nil { return statusText(ticket.id) }
        guard !ticket.members.isEmpty, Set(ticket.members.map(\.player)).count == ticket.members.count else {
            throw GameError(.invalidTicket, "a ticket needs at least one player and no player twice")
        }
        let rules = game.rules
        guard ticket.members.count <= rules.maxPlayers else {
            throw GameError(.invalidTicket, "a party of \(ticket.members.count) does not fit a match of \(rules.maxPlayers)")
        }
        var accepted: [(QueueTicket.Member, SkillRating)] = []
        do {
            for member in ticket.members {
                let home = try game.directory.home(of: member.player, region: member.homeRegion)
                let skill = resuming
                    ? try await home.continueQueue(ticket: ticket, region: region)
                    : try await home.beginQueue(ticket: ticket, region: region)
                accepted.append((member, skill))
            }
        } catch {
            for (member, _) in accepted {
                _ = try? await game.directory.home(of: member.player, region: member.homeRegion).endQueue(ticketID: ticket.id)
            }
            throw error
        }
        if tickets[ticket.id] != nil { return statusText(ticket.id) }  // queued concurrently meanwhile
        let waited = Duration.milliseconds(Int64(max(0, Date().timeIntervalSince1970 - ticket.queuedAt) * 1000))
        let poolTicket = MatchmakingTicket(
            id: ticket.id,
            players: accepted.map { TicketPlayer(id: $0.0.player, skill: $0.1) },
            rttMilliseconds: ticket.rttMilliseconds,
            enqueuedAt: now - waited,
            visitedRegions: ticket.visitedRegions
        )
        do {
            try pool.enqueue(poolTicket)
        } catch {
            for (member, _) in accepted {
                _ = try? await game.directory.home(of: member.player, region: member.homeRegion).endQueue(ticketID: ticket.id)
            }
            throw GameError(.invalidTicket, "\(error)")
        }
        tickets[ticket.id] = ticket
        for (member, skill) in accepted { skills[member.player] = skill }
        startLoop()
        return statusText(ticket.id)
    }

    /// Removes a ticket from the queue; its players become idle. Returns whether it was queued.
    @discardableResult
    public distributed func cancel(ticketID: UUID) async -> Bool {
        guard pool.cancel(ticketID) != nil, let ticket = tickets.removeValue(forKey: ticketID) else { return false }
        await endQueue(ticket)
        return true
    }

    /// Why the ticket is still waiting, or "not queued here".
    public distributed func ticketStatus(ticketID: UUID) -> String {
        statusText(ticketID)
    }

    /// The tickets of `ticketIDs` this matchmaker does not hold (and did not just match): their
    /// owners queue them again. Refused when this node is not the matchmaker now.
    public distributed func missing(ticketIDs: [UUID]) throws -> [UUID] {
        guard let game = game.value, game.placement.matchmakerNode(region: region) == actorSystem.nodeID else {
            throw GameError(.notMatchmaker, "node \(actorSystem.nodeID) is not the matchmaker of \(region) now; resolve it again")
        }
        let cutoff = clock.now.advanced(by: .seconds(-30))
        recentlyMatched = recentlyMatched.filter { $0.value > cutoff }
        return ticketIDs.filter { tickets[$0] == nil && recentlyMatched[$0] == nil }
    }

    /// Queued tickets, queued players, open lobbies.
    public distributed func summary() -> [Int] {
        [pool.queuedTickets, pool.queuedPlayers, lobbies.count]
    }

    /// The queue's sizes and its `limit` longest-waiting tickets with why each waits.
    public distributed func queueView(limit: Int) -> MatchmakerQueueView {
        let waiting = pool.longestWaiting(now: now, limit: min(limit, 1000)).compactMap { entry -> MatchmakerQueueView.Ticket? in
            guard case .waiting(let reason, let window, let waited) = entry.status else { return nil }
            return .init(ticketID: entry.ticket.id, players: entry.ticket.players.count, waited: waited, window: window, reason: reason)
        }
        return MatchmakerQueueView(
            region: region, queuedTickets: pool.queuedTickets, queuedPlayers: pool.queuedPlayers, openLobbies: lobbies.count, tickets: waiting
        )
    }

    private func statusText(_ ticketID: UUID) -> String {
        switch pool.status(of: ticketID, now: now) {
        case .waiting(let reason, _, _): reason
        case .notQueued: "not queued in \(region)"
        }
    }

    // MARK: Passes

    private func startLoop() {
        guard loop == nil else { return }
        let clock = clock
        let interval = passInterval
        let first = clock.now.advanced(by: interval)
        loop = Task {
            var next = first
            while !Task.isCancelled {
                try? await clock.sleep(until: next)
                guard !Task.isCancelled, await self.runPass() else { return }
                next = max(next.advanced(by: interval), clock.now)
            }
        }
    }

    /// One matching pass; returns false when this node stopped being the matchmaker.
    private func runPass() async -> Bool {
        let queued = [("region", region)]
        guard let game = game.value, game.placement.matchmakerNode(region: region) == actorSystem.nodeID else {
            stop()
            Gauge(label: "meridian_matchmaker_queued_tickets", dimensions: queued).record(0)
            Gauge(label: "meridian_matchmaker_queued_players", dimensions: queued).record(0)
            logger.info("no longer the matchmaker of the region; the ticket owners queue again at the new one", metadata: ["meridian.region": "\(region)"])
            return false
        }
        if game.rules.matchmaking != configuration { await adopt(game.rules.matchmaking) }
        let instant = clock.now
        for (id, lobby) in lobbies where lobby.closesAt <= instant {
            lobbies[id] = nil
            pool.closeLobby(matchID: id)
        }
        let result = pool.pass(now: now)
        for match in result.backfilled { await backfill(match, game: game) }
        for match in result.formed { await start(match, game: game) }
        for overflow in result.overflowed { await forward(overflow, game: game) }
        Gauge(label: "meridian_matchmaker_queued_tickets", dimensions: queued).record(pool.queuedTickets)
        Gauge(label: "meridian_matchmaker_queued_players", dimensions: queued).record(pool.queuedPlayers)
        return true
    }

    private func seats(of formed: [MatchmakingTicket]) -> [MatchSeat] {
        formed.flatMap { ticket in
            (tickets[ticket.id]?.members ?? []).map { member in
                MatchSeat(
                    player: member.player, homeRegion: member.homeRegion,
                    skill: skills[member.player] ?? SkillRating(rating: 1500, deviation: 350, volatility: 0.06), ticketID: ticket.id
                )
            }
        }
    }

    private func start(_ formed: FormedMatch, game: GameServices) async {
        let spec = MatchSpec(matchID: UUID(), region: region, shard: 0, seats: seats(of: formed.tickets))
        do {
            let assignment = try await game.startMatch(spec)
            await assign(formed.tickets, to: assignment, game: game)
            let rules = game.rules
            let open = rules.maxPlayers - spec.seats.count
            if rules.matchmaking.backfill, open > 0 {
                lobbies[assignment.matchID] = (assignment, clock.now.advanced(by: rules.lobbyWait))
                pool.openLobby(matchID: assignment.matchID, openSeats: open, averageRating: formed.averageRating, since: now)
            }
        } catch {
            logger.warning("could not start a match; its tickets wait again", metadata: ["meridian.region": "\(region)", "meridian.error": "\(error)"])
            requeue(formed.tickets)
        }
    }

    private func backfill(_ formed: FormedMatch, game: GameServices) async {
        guard let matchID = formed.matchID, let lobby = lobbies[matchID] else {
            requeue(formed.tickets)
            return
        }
        do {
            let match = try game.match(lobby.assignment)
            _ = try await match.admit(seats(of: formed.tickets))
            await assign(formed.tickets, to: lobby.assignment, game: game)
        } catch {
            lobbies[matchID] = nil
            pool.closeLobby(matchID: matchID)
            requeue(formed.tickets)
        }
    }

    /// Tells every player's actor where they play; a player who cancelled meanwhile frees the seat.
    private func assign(_ formed: [MatchmakingTicket], to assignment: MatchAssignment, game: GameServices) async {
        for poolTicket in formed {
            recentlyMatched[poolTicket.id] = clock.now
            guard let ticket = tickets.removeValue(forKey: poolTicket.id) else { continue }
            // From when the party queued (`queuedAt`, wall clock: it may have queued on another node).
            let waited = max(0, Date().timeIntervalSince1970 - ticket.queuedAt)
            Metrics.Timer(label: "meridian_time_to_match_seconds", dimensions: [("region", region)])
                .recordNanoseconds(Int64(min(waited, 86_400) * 1_000_000_000))
            for member in ticket.members {
                do {
                    try await Self.tellHome(member, ticket: ticket.id, assignment: assignment, game: game)
                } catch {
                    logger.info("player left the queue before the match; freeing the seat", metadata: [
                        "meridian.player": "\(member.player)", "meridian.error": "\(error)",
                    ])
                    try? await game.match(assignment).leave(player: member.player)
                }
            }
        }
    }

    /// Tells `member`'s home where they play. Freeing the seat after a failure that leaves it
    /// unknown whether the home heard would leave a home that did hear pointing at a match
    /// that no longer seats the player, so those are retried; a refusal (the ticket was
    /// cancelled) is final.
    private static func tellHome(_ member: QueueTicket.Member, ticket: UUID, assignment: MatchAssignment, game: GameServices) async throws {
        try await retryingUnknownOutcomes {
            try await game.directory.home(of: member.player, region: member.homeRegion).matchAssigned(ticketID: ticket, match: assignment)
        }
    }

    /// Runs an idempotent call to a player's home, retrying (for about 10 s) the failures after
    /// which it is unknown whether the home heard: a timeout, an overloaded or dropped connection.
    private static func retryingUnknownOutcomes(_ call: () async throws -> Void) async throws {
        try await RetryPolicy(attempts: 8).run(retryIf: { error in
            guard let error = error as? ClusterError else { return false }
            return [.timeout, .overloaded, .nodeUnreachable].contains(error.code)
        }, call)
    }

    private func requeue(_ formed: [MatchmakingTicket]) {
        for ticket in formed { try? pool.enqueue(ticket) }
    }

    private func forward(_ overflow: Overflow, game: GameServices) async {
        guard var ticket = tickets.removeValue(forKey: overflow.ticket.id) else { return }
        ticket.visitedRegions = overflow.ticket.visitedRegions
        do {
            _ = try await game.withMatchmaker(of: overflow.region) { [ticket] in try await $0.enqueue(ticket) }
            logger.debug("ticket overflowed", metadata: ["meridian.ticket": "\(ticket.id)", "meridian.to": "\(overflow.region)"])
        } catch {
            // The other region cannot take it: keep it here, it will be matched or retried.
            tickets[ticket.id] = ticket
            var kept = overflow.ticket
            kept.visitedRegions = overflow.ticket.visitedRegions
            try? pool.enqueue(kept)
        }
    }

    /// New matchmaking rules (a catalog publish): the queue carries over with the waits already
    /// served; a ticket the new rules refuse (a party larger than a match now) leaves the queue.
    private func adopt(_ rules: MatchmakingConfiguration) async {
        logger.info("matchmaking rules changed; the queue carries over", metadata: [
            "meridian.region": "\(region)", "meridian.tickets": "\(pool.queuedTickets)",
        ])
        configuration = rules
        let (reconfigured, refused) = pool.reconfigured(rules)
        pool = reconfigured
        for ticket in refused {
            guard let queued = tickets.removeValue(forKey: ticket.id) else { continue }
            await endQueue(queued)
        }
    }

    private func endQueue(_ ticket: QueueTicket) async {
        guard let game = game.value else { return }
        for member in ticket.members {
            // Must reach the home: a home left "queued" would queue the ticket again.
            try? await Self.retryingUnknownOutcomes {
                _ = try await game.directory.home(of: member.player, region: member.homeRegion).endQueue(ticketID: ticket.id)
            }
        }
    }

    /// Stops matching and forgets the queue (the node is no longer the matchmaker; the ticket
    /// owners queue at the new one, and again here should the placement come back).
    func stop() {
        loop?.cancel()
        loop = nil
        pool = MatchmakingPool(region: region, neighbours: neighbours, configuration: configuration)
        tickets = [:]
        skills = [:]
        lobbies = [:]
    }
}
