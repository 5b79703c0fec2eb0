/// A ticket leaving this region's pool for another region's.
public struct Overflow: Sendable, Hashable {
    /// The ticket, with this pool's region appended to `visitedRegions`; enqueue it as is.
    public var ticket: MatchmakingTicket
    /// The region whose pool should get the ticket.
    public var region: String

    public init(ticket: MatchmakingTicket, region: String) {
        self.ticket = ticket
        self.region = region
    }
}
