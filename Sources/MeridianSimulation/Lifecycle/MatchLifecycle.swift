/// The match lifecycle `lobby → countdown → active → postgame → closed` as a pure state machine.
///
/// It does no I/O and has no clock: the match actor feeds it events (player connections,
/// timers, the simulation's verdict) and carries out the returned actions. Every event that
/// is not legal in the current phase is refused with a ``MatchLifecycleError`` naming the
/// phase and the event, and leaves the state unchanged.
public struct MatchLifecycle: Sendable, Hashable {
    /// Players needed (connected) to start or keep a countdown.
    public let minPlayers: Int
    /// Seats in the match.
    public let maxPlayers: Int
    /// The current phase.
    public private(set) var phase: MatchPhase = .lobby
    /// Seated players and whether each is connected.
    public private(set) var players: [MatchPlayerID: Bool] = [:]
    /// How the match ended, once it has.
    public private(set) var outcome: MatchOutcome?
    /// Results (or abandoned notices) are on their way to the players' homes: the match may be
    /// released only once they are all out (``MatchLifecycleEvent/resultsDelivered``), even
    /// when it closed before.
    public private(set) var resultsPending = false

    /// Closed with every result out: the match has been released (``MatchLifecycleAction/releaseMatch``).
    public var isReleased: Bool { phase == .closed && !resultsPending }

    /// - Parameters:
    ///   - minPlayers: Connected players needed to start the countdown (at least 1).
    ///   - maxPlayers: Seats in the match (at least `minPlayers`).
    public init(minPlayers: Int = 2, maxPlayers: Int = 100) {
        precondition(minPlayers >= 1 && maxPlayers >= minPlayers, "need 1 ≤ minPlayers ≤ maxPlayers")
        self.minPlayers = minPlayers
        self.maxPlayers = maxPlayers
    }

    /// Players currently connected.
    public var connectedCount: Int { self.players.values.lazy.filter { $0 }.count }

    /// Applies one event and returns what the match actor must do.
    public mutating func apply(_ event: MatchLifecycleEvent) throws(MatchLifecycleError) -> [MatchLifecycleAction] {
        let phase = self.phase
        func refuse(_ code: MatchLifecycleError.Code = .illegalTransition, _ player: MatchPlayerID? = nil) -> MatchLifecycleError {
            MatchLifecycleError(code: code, phase: phase, event: event.kind, player: player)
        }

        switch (phase, event) {
        case (.closed, .resultsDelivered) where self.resultsPending:
            self.resultsPending = false
            return [.releaseMatch]
        case (.closed, _):
            throw refuse()

        case (.lobby, .join(let id)), (.countdown, .join(let id)):
            guard self.players[id] == nil else { throw refuse(.duplicatePlayer, id) }
            guard self.players.count < self.maxPlayers else { throw refuse(.matchFull, id) }
            self.players[id] = true
            return [.admitPlayer(id)]
        case (.active, .join), (.postgame, .join):
            throw refuse()

        case (_, .leave(let id)):
            guard self.players[id] != nil else { throw refuse(.unknownPlayer, id) }
            self.players[id] = nil
            if self.players.isEmpty, phase != .postgame {
                // No seat remains: nobody is left to play for, so the match ends now (the
                // leavers' "abandoned" results go out) instead of running for no one.
                return [.removePlayer(id)] + (try self.apply(.close))
            }
            return [.removePlayer(id)] + self.cancelCountdownIfShort()

        case (_, .disconnect(let id)):
            guard let connected = self.players[id] else { throw refuse(.unknownPlayer, id) }
            guard connected else { throw refuse(.connectionStateMismatch, id) }
            self.players[id] = false
            return [.holdSeat(id)] + self.cancelCountdownIfShort()

        case (_, .reconnect(let id)):
            guard let connected = self.players[id] else { throw refuse(.unknownPlayer, id) }
            guard !connected else { throw refuse(.connectionStateMismatch, id) }
            self.players[id] = true
            return [.resumePlayer(id)]

        case (.lobby, .startCountdown):
            guard self.connectedCount >= self.minPlayers else { throw refuse(.notEnoughPlayers) }
            self.phase = .countdown
            return [.startCountdownTimer]

        case (.countdown, .countdownElapsed):
            self.phase = .active
            return [.startSimulation]

        case (.active, .lastPlayerStanding(let winner)):
            return self.finish(.lastPlayerStanding(winner: winner))
        case (.active, .timeLimitReached):
            return self.finish(.timeLimitReached)

        case (.postgame, .resultsDelivered):
            self.phase = .closed
            self.resultsPending = false
            return [.releaseMatch]

        // Closing early: every player gets an "abandoned" result; the match goes once they are out.
        case (.lobby, .close), (.countdown, .close):
            self.phase = .closed
            self.resultsPending = true
            return (phase == .countdown ? [.cancelCountdownTimer] : []) + [.abortMatch(players: self.roster)]
        case (.active, .close):
            // Closing mid-match (shard lost or handed over).
            self.phase = .closed
            self.resultsPending = true
            return [.stopSimulation, .abortMatch(players: self.roster)]
        case (.postgame, .close):
            // Results are already computed and on their way; the match goes once they are out.
            self.phase = .closed
            return []

        case (_, .startCountdown), (_, .countdownElapsed), (_, .lastPlayerStanding),
             (_, .timeLimitReached), (_, .resultsDelivered):
            throw refuse()
        }
    }

    /// Seated players in id order.
    private var roster: [MatchPlayerID] { self.players.keys.sorted() }

    private mutating func finish(_ outcome: MatchOutcome) -> [MatchLifecycleAction] {
        self.phase = .postgame
        self.outcome = outcome
        self.resultsPending = true
        return [.stopSimulation, .deliverResults(outcome)]
    }

    private mutating func cancelCountdownIfShort() -> [MatchLifecycleAction] {
        guard self.phase == .countdown, self.connectedCount < self.minPlayers else { return [] }
        self.phase = .lobby
        return [.cancelCountdownTimer]
    }
}
