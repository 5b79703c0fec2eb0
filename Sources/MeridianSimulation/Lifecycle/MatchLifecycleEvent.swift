/// A player taking part in a match, identified by a small match-local number.
public typealias MatchPlayerID = UInt16

/// Something that happened to a match, fed to ``MatchLifecycle/apply(_:)``.
public enum MatchLifecycleEvent: Sendable, Hashable {
    /// A player takes a seat (lobby or countdown only).
    case join(MatchPlayerID)
    /// A player gives up their seat (in an active match: a forfeit).
    case leave(MatchPlayerID)
    /// A player's connection dropped; the seat is held.
    case disconnect(MatchPlayerID)
    /// A disconnected player is back.
    case reconnect(MatchPlayerID)
    /// Players are ready: start the countdown (needs the minimum of connected players).
    case startCountdown
    /// The countdown timer fired: the match starts.
    case countdownElapsed
    /// The simulation reports one player (or none) left alive.
    case lastPlayerStanding(winner: MatchPlayerID?)
    /// The simulation reached the match time limit.
    case timeLimitReached
    /// Every player's result (or abandoned notice) reached its home region, or delivery gave up.
    case resultsDelivered
    /// Close the match now, whatever its phase (e.g. its shard is being handed over or lost).
    case close

    /// The event without its payload, used to name it in errors and in transition tables.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case join, leave, disconnect, reconnect, startCountdown, countdownElapsed
        case lastPlayerStanding, timeLimitReached, resultsDelivered, close
    }

    /// This event's kind.
    public var kind: Kind {
        switch self {
        case .join: .join
        case .leave: .leave
        case .disconnect: .disconnect
        case .reconnect: .reconnect
        case .startCountdown: .startCountdown
        case .countdownElapsed: .countdownElapsed
        case .lastPlayerStanding: .lastPlayerStanding
        case .timeLimitReached: .timeLimitReached
        case .resultsDelivered: .resultsDelivered
        case .close: .close
        }
    }
}
