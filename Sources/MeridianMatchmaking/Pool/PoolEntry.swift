import Foundation

/// What every pass reads about a queued ticket, kept apart from the ticket itself.
///
/// Trivially copyable on purpose: sorting, merging, compacting and scanning 20,000 of these
/// touches no reference counts (the ticket, with its arrays and dictionary, lives in
/// ``MatchmakingPool/tickets`` at the same slot).
struct PoolEntry: Sendable {
    /// The mean rating of the ticket's players.
    let averageRating: Double
    let enqueuedAt: Duration
    /// `enqueuedAt` in seconds, for window arithmetic.
    let enqueuedSeconds: Double
    /// The ticket id's bytes, for tie-breaks without hashing.
    let idHigh: UInt64
    let idLow: UInt64
    let playerCount: Int
    /// The ticket's RTT to this region is above ``MatchmakingConfiguration/maxRTTMilliseconds``.
    let highRTT: Bool
    /// The ticket came from another region's pool (its `visitedRegions` is not empty).
    let cameByOverflow: Bool
    /// `now` of the first pass that saw the ticket; nil until then (the ticket is still among
    /// the arrivals, not in the sorted orders).
    var arrivedAt: Duration?
    /// False once cancelled, matched or overflowed; the slot is reused after the next compaction.
    var alive = true
    /// What the last pass that tried this ticket as an anchor found.
    var lastSearch: SearchDiagnosis?
    /// The most free seats of a compatible lobby that was too small for this party (last pass).
    var lobbySeatsShort: Int?

    init(ticket: MatchmakingTicket, region: String, configuration: MatchmakingConfiguration) {
        self.averageRating = ticket.averageRating
        self.enqueuedAt = ticket.enqueuedAt
        self.enqueuedSeconds = ticket.enqueuedAt.matchmakingSeconds
        (self.idHigh, self.idLow) = ticket.id.matchmakingWords
        self.playerCount = ticket.players.count
        self.cameByOverflow = !ticket.visitedRegions.isEmpty
        if let rtt = ticket.rttMilliseconds[region] {
            self.highRTT = rtt > configuration.maxRTTMilliseconds
        } else {
            // No measurement for this region: nothing says it is too far.
            self.highRTT = false
        }
    }

    /// Oldest first: (enqueuedAt, id).
    static func precedesByAge(_ a: PoolEntry, _ b: PoolEntry) -> Bool {
        if a.enqueuedAt != b.enqueuedAt { return a.enqueuedAt < b.enqueuedAt }
        return a.idHigh != b.idHigh ? a.idHigh < b.idHigh : a.idLow < b.idLow
    }

    /// (average rating, enqueuedAt, id).
    static func precedesByRating(_ a: PoolEntry, _ b: PoolEntry) -> Bool {
        if a.averageRating != b.averageRating { return a.averageRating < b.averageRating }
        return self.precedesByAge(a, b)
    }
}

/// The outcome of a failed search with a ticket as anchor, kept for ``MatchmakingPool/status(of:now:)``.
struct SearchDiagnosis: Sendable, Hashable {
    /// Players (the anchor's party included) in tickets compatible both ways with the anchor
    /// and with one another.
    var compatiblePlayers: Int
    /// The largest match (≤ maxPlayers) those tickets could be packed into, parties whole.
    var bestFit: Int
}

/// A match still in lobby with free seats, registered for backfill.
struct Lobby: Sendable, Hashable {
    var matchID: UUID
    var openSeats: Int
    var averageRating: Double
    var since: Duration
}
