import MeridianSimulation

/// What happens to a ``GameClient`` without it asking: everything the gateway pushes, and the
/// end of the connection.
public enum GameEvent: Sendable, Hashable {
    /// A match the player is in changed phase (also when the player was matched).
    case matchEvent(MatchEvent)
    /// A delta was applied (and acknowledged): the snapshot's tick and the player's own entity
    /// in it (nil when the player is not in its own area of interest, e.g. dead).
    case snapshotApplied(tick: UInt32, own: ReplicatedEntity?)
    /// The player's result of a finished match.
    case result(MatchResult)
    /// The player's profile, pushed after a match changed the inventory.
    case profile(Profile)
    /// A matchmaking ticket changed (also: the party's leader queued this player).
    case queueStatus(QueueStatus)
    /// The player's home region moved (its own ``GameClient/moveHome(to:)`` or an operator's
    /// transfer); the connection stays, routed to the new home.
    case homeChanged(region: String, epoch: UInt64)
    /// Another player invites this one into their party.
    case partyInvitation(PartyInvitation)
    /// An error the gateway pushed without closing the connection.
    case serverError(MeridianClientError)
    /// The connection ended; ``GameClient/reconnect(host:port:region:)`` resumes the session.
    case disconnected(MeridianClientError)
    /// The gateway was leaving and named others; the session was resumed at `gateway`, `after`
    /// the redirect arrived (``GameClient/Configuration/followRedirects``). A running match goes on.
    case redirected(gateway: String, after: Duration)
}
