/// What one ``MatchmakingPool/pass(now:)`` decided. Every ticket listed has left the pool.
public struct MatchmakingPassResult: Sendable {
    /// New matches, in the order their anchors (oldest tickets first) were considered.
    public var formed: [FormedMatch]
    /// Seats filled in open lobbies (`matchID` set), one entry per lobby that got tickets.
    public var backfilled: [FormedMatch]
    /// Tickets to enqueue in another region's pool.
    public var overflowed: [Overflow]

    public init(formed: [FormedMatch] = [], backfilled: [FormedMatch] = [], overflowed: [Overflow] = []) {
        self.formed = formed
        self.backfilled = backfilled
        self.overflowed = overflowed
    }
}
