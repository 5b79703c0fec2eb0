import MeridianSimulation
import Testing

/// A lifecycle in `phase` with players 1 and 2 connected and 3 disconnected (minimum 2).
func lifecycle(in phase: MatchPhase) throws -> MatchLifecycle {
    var machine = MatchLifecycle(minPlayers: 2, maxPlayers: 4)
    for id: MatchPlayerID in [1, 2, 3] { _ = try machine.apply(.join(id)) }
    _ = try machine.apply(.disconnect(3))
    let path: [MatchLifecycleEvent]
    switch phase {
    case .lobby: path = []
    case .countdown: path = [.startCountdown]
    case .active: path = [.startCountdown, .countdownElapsed]
    case .postgame: path = [.startCountdown, .countdownElapsed, .timeLimitReached]
    case .closed: path = [.close]
    }
    for event in path { _ = try machine.apply(event) }
    #expect(machine.phase == phase)
    return machine
}

/// One representative event of each kind, legal whenever its kind is legal in the phase.
func sample(_ kind: MatchLifecycleEvent.Kind) -> MatchLifecycleEvent {
    switch kind {
    case .join: .join(9)
    case .leave: .leave(1)
    case .disconnect: .disconnect(1)
    case .reconnect: .reconnect(3)
    case .startCountdown: .startCountdown
    case .countdownElapsed: .countdownElapsed
    case .lastPlayerStanding: .lastPlayerStanding(winner: 2)
    case .timeLimitReached: .timeLimitReached
    case .resultsDelivered: .resultsDelivered
    case .close: .close
    }
}

/// The phase after each legal (phase, event) pair from ``lifecycle(in:)``; pairs absent are illegal.
let legalTransitions: [MatchPhase: [MatchLifecycleEvent.Kind: MatchPhase]] = [
    .lobby: [.join: .lobby, .leave: .lobby, .disconnect: .lobby, .reconnect: .lobby, .startCountdown: .countdown, .close: .closed],
    // Leaving or disconnecting drops below the minimum of connected players: back to the lobby.
    .countdown: [.join: .countdown, .leave: .lobby, .disconnect: .lobby, .reconnect: .countdown, .countdownElapsed: .active, .close: .closed],
    .active: [.leave: .active, .disconnect: .active, .reconnect: .active, .lastPlayerStanding: .postgame, .timeLimitReached: .postgame, .close: .closed],
    .postgame: [.leave: .postgame, .disconnect: .postgame, .reconnect: .postgame, .resultsDelivered: .closed, .close: .closed],
    // Closed early (lobby × close): the abandoned results are still on their way.
    .closed: [.resultsDelivered: .closed],
]

struct PhaseEvent: Sendable, CustomTestStringConvertible {
    var phase: MatchPhase
    var kind: MatchLifecycleEvent.Kind
    var testDescription: String { "\(self.phase.rawValue) × \(self.kind.rawValue)" }
}

let allPairs: [PhaseEvent] = MatchPhase.allCases.flatMap { phase in
    MatchLifecycleEvent.Kind.allCases.map { PhaseEvent(phase: phase, kind: $0) }
}

@Suite struct MatchLifecycleTests {
    @Test(arguments: allPairs)
    func everyPhaseEventPair(pair: PhaseEvent) throws {
        var machine = try lifecycle(in: pair.phase)
        let before = machine
        if let next = legalTransitions[pair.phase]?[pair.kind] {
            _ = try machine.apply(sample(pair.kind))
            #expect(machine.phase == next)
        } else {
            let error = #expect(throws: MatchLifecycleError.self) { try machine.apply(sample(pair.kind)) }
            #expect(error?.code == .illegalTransition)
            #expect(error?.phase == pair.phase)
            #expect(error?.event == pair.kind)
            #expect(error?.description.contains(pair.phase.rawValue) == true)
            #expect(machine == before, "a refused event leaves the state unchanged")
        }
    }

    @Test(arguments: [MatchPhase.lobby, .countdown, .active, .postgame])
    func disconnectAndReconnectInEachPhase(phase: MatchPhase) throws {
        var machine = try lifecycle(in: phase)
        #expect(try machine.apply(.reconnect(3)) == [.resumePlayer(3)])
        #expect(try machine.apply(.disconnect(3)) == [.holdSeat(3)])
        #expect(machine.players[3] == false, "the seat is held while away")
        let twice = #expect(throws: MatchLifecycleError.self) { try machine.apply(.disconnect(3)) }
        #expect(twice?.code == .connectionStateMismatch)
        let connected = #expect(throws: MatchLifecycleError.self) { try machine.apply(.reconnect(1)) }
        #expect(connected?.code == .connectionStateMismatch)
        let unknown = #expect(throws: MatchLifecycleError.self) { try machine.apply(.disconnect(42)) }
        #expect(unknown?.code == .unknownPlayer)
        #expect(machine.phase == phase)
    }

    @Test func disconnectAndReconnectWhenClosedAreRefused() throws {
        var machine = try lifecycle(in: .closed)
        #expect(throws: MatchLifecycleError.self) { try machine.apply(.disconnect(1)) }
        #expect(throws: MatchLifecycleError.self) { try machine.apply(.reconnect(3)) }
    }

    @Test func closingWhileActiveAbortsEveryPlayer() throws {
        var machine = try lifecycle(in: .active)
        let actions = try machine.apply(.close)
        #expect(actions == [.stopSimulation, .abortMatch(players: [1, 2, 3])])
        #expect(machine.phase == .closed)
        // Released only once the abandoned results are out, and only once.
        #expect(try machine.apply(.resultsDelivered) == [.releaseMatch])
        #expect(throws: MatchLifecycleError.self) { try machine.apply(.resultsDelivered) }
    }

    /// The last seat leaving ends the match in every phase before POSTGAME (nobody is left to
    /// play for); in POSTGAME the results already owe their delivery, so it waits for them.
    @Test(arguments: [MatchPhase.lobby, .countdown, .active])
    func theLastSeatLeavingEndsTheMatch(phase: MatchPhase) throws {
        var machine = try lifecycle(in: phase)
        #expect(try machine.apply(.leave(1)) == [.removePlayer(1)] + (phase == .countdown ? [.cancelCountdownTimer] : []))
        _ = try machine.apply(.leave(3))
        #expect(machine.phase != .closed, "a seat remains")
        let last = try machine.apply(.leave(2))
        let expected: [MatchLifecycleAction] = switch phase {
        case .active: [.removePlayer(2), .stopSimulation, .abortMatch(players: [])]
        default: [.removePlayer(2), .abortMatch(players: [])]
        }
        #expect(last == expected)
        #expect(machine.phase == .closed)
        #expect(try machine.apply(.resultsDelivered) == [.releaseMatch])
    }

    @Test func theLastSeatLeavingInPostgameWaitsForTheResults() throws {
        var machine = try lifecycle(in: .postgame)
        for id: MatchPlayerID in [1, 2, 3] { _ = try machine.apply(.leave(id)) }
        #expect(machine.phase == .postgame)
        #expect(try machine.apply(.resultsDelivered) == [.releaseMatch])
    }

    /// Closed in POSTGAME (its shard going away): the computed results still go out first.
    @Test func closingInPostgameReleasesOnceTheResultsAreOut() throws {
        var machine = try lifecycle(in: .postgame)
        #expect(try machine.apply(.close) == [])
        #expect(machine.phase == .closed)
        #expect(try machine.apply(.resultsDelivered) == [.releaseMatch])
    }

    @Test func countdownNeedsMinimumConnectedPlayers() throws {
        var machine = MatchLifecycle(minPlayers: 2, maxPlayers: 4)
        _ = try machine.apply(.join(1))
        let error = #expect(throws: MatchLifecycleError.self) { try machine.apply(.startCountdown) }
        #expect(error?.code == .notEnoughPlayers)
        _ = try machine.apply(.join(2))
        _ = try machine.apply(.disconnect(2))
        #expect(throws: MatchLifecycleError.self) { try machine.apply(.startCountdown) }
        _ = try machine.apply(.reconnect(2))
        #expect(try machine.apply(.startCountdown) == [.startCountdownTimer])
        #expect(try machine.apply(.disconnect(2)) == [.holdSeat(2), .cancelCountdownTimer])
        #expect(machine.phase == .lobby)
    }

    @Test func joinRefusesDuplicatesAndFullMatches() throws {
        var machine = MatchLifecycle(minPlayers: 1, maxPlayers: 2)
        _ = try machine.apply(.join(1))
        let code1 = (#expect(throws: MatchLifecycleError.self) { try machine.apply(.join(1)) })?.code
        #expect(code1 == .duplicatePlayer)
        _ = try machine.apply(.join(2))
        let code2 = (#expect(throws: MatchLifecycleError.self) { try machine.apply(.join(3)) })?.code
        #expect(code2 == .matchFull)
    }

    @Test func fullMatchRunRecordsOutcome() throws {
        var machine = try lifecycle(in: .active)
        #expect(try machine.apply(.lastPlayerStanding(winner: 2)) == [.stopSimulation, .deliverResults(.lastPlayerStanding(winner: 2))])
        #expect(machine.outcome == .lastPlayerStanding(winner: 2))
        #expect(try machine.apply(.resultsDelivered) == [.releaseMatch])
        #expect(machine.phase == .closed)
    }
}
