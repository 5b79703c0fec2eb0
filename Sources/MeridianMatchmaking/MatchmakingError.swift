/// Why a ticket was refused by ``MatchmakingPool/enqueue(_:)``.
public struct MatchmakingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for callers that branch on it.
    public enum Code: Sendable, Hashable {
        /// A player of the ticket is already in another queued ticket (or twice in this one).
        case duplicatePlayer
        /// The ticket has no players.
        case emptyTicket
        /// The party has more players than a match holds.
        case partyTooLarge
        /// A player's rating, deviation or volatility is not a finite positive value.
        case invalidRating
    }

    public var code: Code
    /// What happened and what to do about it; names ids, never secrets.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "MatchmakingError.\(self.code): \(self.message)" }
}
