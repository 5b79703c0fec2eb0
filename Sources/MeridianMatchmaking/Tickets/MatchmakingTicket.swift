import Foundation

/// A request to be matched: one player, or a party that is matched together or not at all.
public struct MatchmakingTicket: Sendable, Hashable {
    /// The ticket's id; enqueueing the same id again is a no-op.
    public var id: UUID
    /// 1 = solo; more = a party, never split across matches.
    public var players: [TicketPlayer]
    /// The client's measured round-trip time to each region, by region name.
    public var rttMilliseconds: [String: Int]
    /// When the ticket was first enqueued, on the caller's clock (any fixed origin). Set once by
    /// the caller and kept when the ticket overflows to another region: windows keep widening.
    public var enqueuedAt: Duration
    /// The regions whose pools already had this ticket, oldest first; overflow never returns to one.
    public var visitedRegions: [String]

    public init(
        id: UUID,
        players: [TicketPlayer],
        rttMilliseconds: [String: Int] = [:],
        enqueuedAt: Duration,
        visitedRegions: [String] = []
    ) {
        self.id = id
        self.players = players
        self.rttMilliseconds = rttMilliseconds
        self.enqueuedAt = enqueuedAt
        self.visitedRegions = visitedRegions
    }

    /// The mean rating of the ticket's players: what windows are compared against.
    public var averageRating: Double {
        guard !self.players.isEmpty else { return 0 }
        return self.players.reduce(0) { $0 + $1.skill.rating } / Double(self.players.count)
    }
}
