import Foundation

/// Tickets the pool put together: a new match, or seats filled in a match still in lobby.
public struct FormedMatch: Sendable, Hashable {
    /// `nil` for a new match; the lobby's match id for a backfill.
    public var matchID: UUID?
    /// The tickets: for a new match the anchor (the ticket whose turn it was, oldest first)
    /// then the others nearest in rating first; for a backfill nearest to the lobby first.
    public var tickets: [MatchmakingTicket]
    /// The mean rating of every player in `tickets`.
    public var averageRating: Double

    public init(matchID: UUID?, tickets: [MatchmakingTicket], averageRating: Double) {
        self.matchID = matchID
        self.tickets = tickets
        self.averageRating = averageRating
    }

    /// Players in the match (party members counted).
    public var playerCount: Int { self.tickets.reduce(0) { $0 + $1.players.count } }
}
