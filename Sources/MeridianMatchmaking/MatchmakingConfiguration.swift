/// How a ``MatchmakingPool`` forms matches. Every property has a documented default.
public struct MatchmakingConfiguration: Sendable, Hashable {
    /// The fewest players a match starts with (2).
    public var minPlayers: Int
    /// The most players in a match, parties included (10).
    public var maxPlayers: Int
    /// A fresh ticket accepts tickets within ± this many rating points of its own (100).
    public var initialWindow: Double
    /// The window grows by this many rating points per second waited (50).
    public var widenPerSecond: Double
    /// The window never grows past ± this (800).
    public var maxWindow: Double
    /// A ticket not matched after this long moves to the nearest region it has not visited
    /// (10 s; `nil` = never). For a ticket that arrived by overflow the time counts from its
    /// arrival in this pool, so every region gets the same chance.
    public var overflowAfter: Duration?
    /// A ticket is not matched in a region whose measured RTT is above this (150 ms) unless it
    /// has waited past ``overflowAfter``; if a region with a lower RTT is unvisited it moves
    /// there at once.
    public var maxRTTMilliseconds: Int
    /// Before an anchor ticket has waited this long (5 s), only full matches of ``maxPlayers``
    /// form; after it, any match of at least ``minPlayers``.
    public var formWithFewerAfter: Duration
    /// Whether open lobbies (``MatchmakingPool/openLobby(matchID:openSeats:averageRating:since:)``)
    /// are filled before new matches form (true).
    public var backfill: Bool

    public init(
        minPlayers: Int = 2,
        maxPlayers: Int = 10,
        initialWindow: Double = 100,
        widenPerSecond: Double = 50,
        maxWindow: Double = 800,
        overflowAfter: Duration? = .seconds(10),
        maxRTTMilliseconds: Int = 150,
        formWithFewerAfter: Duration = .seconds(5),
        backfill: Bool = true
    ) {
        precondition(minPlayers >= 1 && maxPlayers >= minPlayers, "need 1 ≤ minPlayers ≤ maxPlayers")
        self.minPlayers = minPlayers
        self.maxPlayers = maxPlayers
        self.initialWindow = initialWindow
        self.widenPerSecond = widenPerSecond
        self.maxWindow = maxWindow
        self.overflowAfter = overflowAfter
        self.maxRTTMilliseconds = maxRTTMilliseconds
        self.formWithFewerAfter = formWithFewerAfter
        self.backfill = backfill
    }

    /// The rating window (± points) of a ticket that has waited `waited`:
    /// min(maxWindow, initialWindow + widenPerSecond × seconds waited).
    public func window(waited: Duration) -> Double {
        min(self.maxWindow, self.initialWindow + self.widenPerSecond * max(0, waited.matchmakingSeconds))
    }
}
