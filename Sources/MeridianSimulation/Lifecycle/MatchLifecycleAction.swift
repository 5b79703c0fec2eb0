/// What the match actor must do after a lifecycle event; the state machine itself does no I/O.
public enum MatchLifecycleAction: Sendable, Hashable {
    /// Seat the player (and spawn them once the match starts).
    case admitPlayer(MatchPlayerID)
    /// Drop the player from the match and free their seat.
    case removePlayer(MatchPlayerID)
    /// Keep the player's seat (and avatar, if active) while they are away.
    case holdSeat(MatchPlayerID)
    /// Send the reconnecting player a full snapshot.
    case resumePlayer(MatchPlayerID)
    /// Arm the countdown timer; it reports back with `countdownElapsed`.
    case startCountdownTimer
    /// Disarm the countdown timer.
    case cancelCountdownTimer
    /// Start driving the ``MatchSimulation`` tick.
    case startSimulation
    /// Stop the tick.
    case stopSimulation
    /// Compute and send each player's result to their home region.
    case deliverResults(MatchOutcome)
    /// End the match for these players with a "match aborted" result so none is left stuck.
    case abortMatch(players: [MatchPlayerID])
    /// Release every resource of the match (closed, and every result out).
    case releaseMatch
}

/// How a match ended.
public enum MatchOutcome: Sendable, Hashable {
    /// One player (or, after a simultaneous elimination, none) is left alive.
    case lastPlayerStanding(winner: MatchPlayerID?)
    /// The match time limit was reached with several players alive.
    case timeLimitReached
}
