import Foundation

/// One region's matchmaking queue as a value: tickets in, matches, backfills and overflows out.
///
/// Pure: no clock (every time is a `Duration` since an origin the caller picks and keeps), no
/// I/O, no randomness — the same calls give the same results. The region's matchmaker actor
/// owns one pool, calls ``enqueue(_:)`` and ``cancel(_:)`` as tickets come and go and
/// ``pass(now:)`` about every 100 ms, and carries out what the pass returns.
///
/// Tickets are kept in two orders: by average rating (the sweep walks outward from an anchor
/// through it) and by age (anchors are taken oldest first, for fairness). New tickets are
/// sorted and merged in at the next pass, so a pass costs O(n + k log k) for n queued and k
/// new tickets plus the sweep.
public struct MatchmakingPool: Sendable {
    /// This pool's region.
    public let region: String
    /// The other regions, nearest first: where tickets overflow when they measured no RTT.
    public let neighbours: [String]
    public let configuration: MatchmakingConfiguration

    /// Slots; dead ones are reused after the next compaction.
    var entries: [PoolEntry] = []
    /// The ticket of each slot (index-aligned with `entries`).
    var tickets: [MatchmakingTicket] = []
    var freeSlots: [Int] = []
    /// Dead since the last compaction: still referenced by the orders.
    var released: [Int] = []
    /// Enqueued since the last pass: not yet in the orders.
    var arrivals: [Int] = []
    /// Slots by (average rating, enqueuedAt, id).
    var byRating: [Int] = []
    /// Slots by (enqueuedAt, id): oldest first.
    var byAge: [Int] = []
    var slotOfTicket: [UUID: Int] = [:]
    var ticketOfPlayer: [UUID: UUID] = [:]
    var lobbies: [UUID: Lobby] = [:]
    /// Ratings and players of `byRating` as of the end of the last pass, for status counts.
    var statusIndex = StatusIndex()

    /// Players in queued tickets (party members counted).
    public private(set) var queuedPlayers = 0
    /// Tickets queued (cancelled, matched and overflowed ones are gone).
    public var queuedTickets: Int { self.slotOfTicket.count }
    /// Lobbies registered for backfill that still have free seats.
    public var openLobbies: Int { self.lobbies.count }

    /// - Parameters:
    ///   - region: This pool's region.
    ///   - neighbours: The other regions, nearest first — the overflow order for tickets that
    ///     measured no RTT to them. Overflow only goes to regions listed here.
    ///   - configuration: Windows, match sizes, overflow and backfill rules.
    public init(region: String, neighbours: [String], configuration: MatchmakingConfiguration = .init()) {
        self.region = region
        self.neighbours = neighbours.filter { $0 != region }
        self.configuration = configuration
    }

    /// Queues a ticket. Enqueueing a ticket id that is already queued does nothing (the queue
    /// is rebuilt from the tickets' owners after a failover, and they may send twice).
    ///
    /// - Throws: ``MatchmakingError`` when the ticket is empty, larger than a match, has a
    ///   player with an invalid rating, or a player already queued in another ticket.
    public mutating func enqueue(_ ticket: MatchmakingTicket) throws(MatchmakingError) {
        if self.slotOfTicket[ticket.id] != nil { return }
        try self.validate(ticket)
        let entry = PoolEntry(ticket: ticket, region: self.region, configuration: self.configuration)
        let slot: Int
        if let free = self.freeSlots.popLast() {
            slot = free
            self.entries[slot] = entry
            self.tickets[slot] = ticket
        } else {
            slot = self.entries.count
            self.entries.append(entry)
            self.tickets.append(ticket)
        }
        self.slotOfTicket[ticket.id] = slot
        for player in ticket.players { self.ticketOfPlayer[player.id] = ticket.id }
        self.queuedPlayers += entry.playerCount
        self.arrivals.append(slot)
    }

    /// Removes a queued ticket and returns it; nil if it is not queued (already matched,
    /// overflowed or cancelled).
    @discardableResult
    public mutating func cancel(_ ticketID: UUID) -> MatchmakingTicket? {
        guard let slot = self.slotOfTicket[ticketID] else { return nil }
        let ticket = self.tickets[slot]
        self.remove(slot: slot)
        return ticket
    }

    /// Registers a match still in lobby with `openSeats` free seats: the next passes fill them
    /// with compatible tickets (whose window covers `averageRating`) before forming new matches.
    /// Registering the same match again replaces its seats and rating; zero seats closes it.
    public mutating func openLobby(matchID: UUID, openSeats: Int, averageRating: Double, since: Duration) {
        guard openSeats > 0, averageRating.isFinite else {
            self.lobbies[matchID] = nil
            return
        }
        self.lobbies[matchID] = Lobby(matchID: matchID, openSeats: openSeats, averageRating: averageRating, since: since)
    }

    /// The same queue under new rules (a catalog publish changed them): every queued ticket
    /// keeps its place and its enqueue time — a wait already served counts under the new rules
    /// — and open lobbies carry over. Tickets the new rules refuse (a party larger than the new
    /// match size) are returned: their owners' queue ends.
    public func reconfigured(_ configuration: MatchmakingConfiguration) -> (pool: MatchmakingPool, refused: [MatchmakingTicket]) {
        var pool = MatchmakingPool(region: self.region, neighbours: self.neighbours, configuration: configuration)
        var refused: [MatchmakingTicket] = []
        for slot in self.slotOfTicket.values.sorted() {
            do {
                try pool.enqueue(self.tickets[slot])
            } catch {
                refused.append(self.tickets[slot])
            }
        }
        pool.lobbies = self.lobbies
        return (pool, refused)
    }

    /// Stops backfilling a match (it started, or filled by other means). Unknown ids are ignored.
    public mutating func closeLobby(matchID: UUID) {
        self.lobbies[matchID] = nil
    }

    /// The free seats the pool still means to fill in a lobby; nil when not registered
    /// (a lobby whose seats were all filled by backfill is forgotten).
    public func openSeats(inLobby matchID: UUID) -> Int? {
        self.lobbies[matchID]?.openSeats
    }

    // MARK: - Bookkeeping

    private func validate(_ ticket: MatchmakingTicket) throws(MatchmakingError) {
        guard !ticket.players.isEmpty else {
            throw MatchmakingError(code: .emptyTicket, message: "ticket \(ticket.id) has no players; add at least one player to the ticket")
        }
        guard ticket.players.count <= self.configuration.maxPlayers else {
            throw MatchmakingError(
                code: .partyTooLarge,
                message: "ticket \(ticket.id) is a party of \(ticket.players.count) but a match holds at most \(self.configuration.maxPlayers) players; split the party"
            )
        }
        var seen = Set<UUID>()
        for player in ticket.players {
            guard player.skill.isValid else {
                throw MatchmakingError(
                    code: .invalidRating,
                    message: "player \(player.id) has rating \(player.skill.rating), deviation \(player.skill.deviation), volatility \(player.skill.volatility); "
                        + "the rating must be finite and deviation and volatility positive — repair the stored rating or reset it to SkillRating.initial"
                )
            }
            if let other = self.ticketOfPlayer[player.id] {
                throw MatchmakingError(
                    code: .duplicatePlayer,
                    message: "player \(player.id) is already queued in ticket \(other); cancel that ticket before queueing another"
                )
            }
            guard seen.insert(player.id).inserted else {
                throw MatchmakingError(code: .duplicatePlayer, message: "player \(player.id) appears twice in ticket \(ticket.id); list each party member once")
            }
        }
    }

    /// Forgets a ticket; its slot stays in the orders until the next compaction.
    mutating func remove(slot: Int) {
        guard self.entries[slot].alive else { return }
        self.entries[slot].alive = false
        let ticket = self.tickets[slot]
        self.slotOfTicket[ticket.id] = nil
        // A player is in one queued ticket at most (enqueue refuses a second): this ticket's.
        for player in ticket.players { self.ticketOfPlayer.removeValue(forKey: player.id) }
        self.queuedPlayers -= self.entries[slot].playerCount
        self.released.append(slot)
    }

    /// Drops dead slots from the orders and makes them reusable.
    mutating func compact() {
        guard !self.released.isEmpty else { return }
        let entries = self.entries
        self.byRating.removeAll { !entries[$0].alive }
        self.byAge.removeAll { !entries[$0].alive }
        self.arrivals.removeAll { !entries[$0].alive }
        self.freeSlots.append(contentsOf: self.released)
        self.released.removeAll(keepingCapacity: true)
    }

    /// Sorts the arrivals into both orders; returns them (rating order), now marked as arrived.
    mutating func absorbArrivals(now: Duration) -> [Int] {
        guard !self.arrivals.isEmpty else { return [] }
        for slot in self.arrivals { self.entries[slot].arrivedAt = now }
        let entries = self.entries
        let ratingOrder = { (a: Int, b: Int) in PoolEntry.precedesByRating(entries[a], entries[b]) }
        let ageOrder = { (a: Int, b: Int) in PoolEntry.precedesByAge(entries[a], entries[b]) }
        let arrived = self.arrivals.sorted(by: ratingOrder)
        self.byRating = Self.merge(self.byRating, arrived, by: ratingOrder)
        self.byAge = Self.merge(self.byAge, arrived.sorted(by: ageOrder), by: ageOrder)
        self.arrivals.removeAll(keepingCapacity: true)
        return arrived
    }

    /// Merges two sorted arrays (stable: `a` first on ties).
    static func merge(_ a: [Int], _ b: [Int], by precedes: (Int, Int) -> Bool) -> [Int] {
        guard !a.isEmpty else { return b }
        guard !b.isEmpty else { return a }
        var merged: [Int] = []
        merged.reserveCapacity(a.count + b.count)
        var i = 0
        var j = 0
        while i < a.count && j < b.count {
            if precedes(b[j], a[i]) {
                merged.append(b[j])
                j += 1
            } else {
                merged.append(a[i])
                i += 1
            }
        }
        merged.append(contentsOf: a[i...])
        merged.append(contentsOf: b[j...])
        return merged
    }
}
