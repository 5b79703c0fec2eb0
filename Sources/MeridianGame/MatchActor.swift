import Distributed
import Foundation
import Logging
import MeridianClock
import MeridianCluster
import MeridianRegion
import MeridianSimulation

/// One match, at `/match/<id>` on a node owning one of its region's shards.
///
/// It drives the pure parts: ``MatchLifecycle`` decides what each event means, the match
/// carries out the returned actions; ``MatchSimulation`` is stepped at the rules' tick rate and
/// ``SnapshotReplicator`` turns each tick into one packet per subscribed player. At POSTGAME
/// every player's result goes to their actor in their home region (retried until it lands;
/// applied once per match and player there), then the match closes and releases its shard slot.
public distributed actor MatchActor {
    public typealias ActorSystem = ClusterSystem

    public nonisolated static func path(of matchID: UUID) -> String {
        "/match/\(matchID.uuidString.lowercased())"
    }

    let matchID: UUID
    let region: String
    let shard: Int
    let rules: GameRules
    let environment: MatchEnvironment
    private var lifecycle: MatchLifecycle
    /// Seats in the order they were taken; a seat's lifecycle id is its index.
    private var seats: [MatchSeat] = []
    /// Player → index in ``seats`` (looked up per player per tick).
    private var seatIndex: [UUID: Int] = [:]
    private var forfeited: Set<Int> = []
    private var simulation: MatchSimulation?
    private var replicator: SnapshotReplicator?
    /// Lifecycle id → simulation index, fixed when the simulation starts.
    private var simulationIndex: [MatchPlayerID: Int] = [:]
    private var eliminationOrder: [Int] = []
    /// The streams to the gateways serving the players.
    private let publisher: MatchPublisher
    private var timer: Task<Void, Never>?
    private var ticker: Task<Void, Never>?
    private var outcomeLabel: String?

    init(spec: MatchSpec, rules: GameRules, environment: MatchEnvironment, actorSystem: ClusterSystem) {
        self.matchID = spec.matchID
        self.region = spec.region
        self.shard = spec.shard
        self.rules = rules
        self.environment = environment
        self.lifecycle = MatchLifecycle(minPlayers: min(rules.minPlayers, rules.maxPlayers), maxPlayers: rules.maxPlayers)
        self.publisher = MatchPublisher(matchID: spec.matchID, system: actorSystem, retry: environment.retry)
        self.actorSystem = actorSystem
    }

    /// Seats the first players and opens the lobby (called once by the shard after creation).
    func open(with seats: [MatchSeat]) throws {
        _ = try admitSeats(seats)
        environment.statistics.matchStarted()
        armLobbyTimer()
    }

    // MARK: Distributed API

    /// Seats more players (backfill) while the match is in LOBBY or COUNTDOWN.
    public distributed func admit(_ seats: [MatchSeat]) throws -> MatchStatusView {
        guard lifecycle.phase == .lobby || lifecycle.phase == .countdown else {
            throw GameError(.matchNotJoinable, "match \(matchID) is \(lifecycle.phase); queue again for a new match")
        }
        guard lifecycle.players.count + seats.count <= lifecycle.maxPlayers else {
            throw GameError(.matchNotJoinable, "match \(matchID) has \(lifecycle.maxPlayers - lifecycle.players.count) free seats, \(seats.count) asked")
        }
        _ = try admitSeats(seats)
        return status()
    }

    /// The player gives up their seat; in an ACTIVE match that is a forfeit ("abandoned").
    public distributed func leave(player: UUID) throws {
        let id = try seat(of: player)
        carryOut(try lifecycle.apply(.leave(id)))
        forfeited.insert(Int(id))
        lobbyMayProceed()
    }

    /// The player's connection dropped; the seat (and avatar) is held for a reconnect.
    public distributed func disconnect(player: UUID) throws {
        carryOut(try lifecycle.apply(.disconnect(try seat(of: player))))
    }

    /// The player's client resumed on a new connection (after a drop, or handed over by a
    /// leaving gateway without one): it holds no baseline, so its next packet is a full snapshot.
    public distributed func reconnect(player: UUID) throws {
        let seat = try seat(of: player)
        if let tick = simulation?.tick { replicator?.forgetAcknowledgement(client: seat, now: tick) }
        guard lifecycle.players[seat] == false else { return }  // handed over: never dropped
        carryOut(try lifecycle.apply(.reconnect(seat)))
        lobbyMayProceed()
    }

    /// Queues the player's inputs for the next tick (ignored outside ACTIVE; bounded per tick by the simulation).
    private func submitInputs(player: UUID, inputs: [InputMessage]) throws {
        let id = try seat(of: player)
        guard var simulation, let index = simulationIndex[id] else { return }
        self.simulation = nil  // keep the value uniquely referenced while mutating it
        for input in inputs.prefix(64) { simulation.enqueue(input.input, for: MatchPlayerID(index)) }
        self.simulation = simulation
    }

    /// The player holds the snapshot of `tick`; later deltas are encoded against it.
    private func acknowledge(player: UUID, tick: UInt32) throws {
        let id = try seat(of: player)
        guard let index = simulationIndex[id], let now = simulation?.tick else { return }
        replicator?.acknowledge(client: MatchPlayerID(index), tick: tick, now: now)
    }

    /// The inputs and acks of a gateway's players in this match, in one call (what a gateway
    /// sends per round trip, so a slow link coalesces instead of queueing). A player who is not
    /// (or no longer) seated is skipped; the others still count.
    public distributed func clientUpdates(_ updates: [ClientUpdate]) {
        for update in updates {
            if !update.inputs.isEmpty { try? submitInputs(player: update.player, inputs: update.inputs) }
            if let tick = update.acknowledged { try? acknowledge(player: update.player, tick: tick) }
        }
    }

    /// Sends `player`'s packet of every tick to `subscriber` from now on.
    public distributed func subscribe(player: UUID, subscriber: ClusterActorID) throws {
        // Released: the end went out to the subscribers of then; a new one would wait for it forever.
        guard !lifecycle.isReleased else { throw GameError(.notInMatch, "match \(matchID) is over") }
        _ = try seat(of: player)
        publisher.subscribe(player: player, subscriber: subscriber, phase: lifecycle.phase, tickRate: rules.tickRate)
    }

    /// `subscriber` no longer serves any player of this match (its gateway's players all left or
    /// finished): nothing more is sent to it.
    public distributed func unsubscribe(_ subscriber: ClusterActorID) {
        publisher.unsubscribe(subscriber)
    }

    public distributed func status() -> MatchStatusView {
        MatchStatusView(
            matchID: matchID, phase: "\(lifecycle.phase)", players: lifecycle.players.count,
            connected: lifecycle.connectedCount, tick: simulation?.tick ?? 0,
            alive: simulation?.aliveCount ?? lifecycle.players.count, outcome: outcomeLabel
        )
    }

    /// Ends the match now (its shard is going away): players get an "abandoned" result.
    public distributed func close() throws {
        carryOut(try lifecycle.apply(.close))
    }

    // MARK: Lifecycle

    private func seat(of player: UUID) throws -> MatchPlayerID {
        guard let index = seatIndex[player], lifecycle.players[MatchPlayerID(index)] != nil else {
            throw GameError(.notInMatch, "player \(player) has no seat in match \(matchID)")
        }
        return MatchPlayerID(index)
    }

    private func admitSeats(_ newSeats: [MatchSeat]) throws -> [MatchLifecycleAction] {
        var actions: [MatchLifecycleAction] = []
        for seat in newSeats where seatIndex[seat.player] == nil {
            seatIndex[seat.player] = seats.count
            seats.append(seat)
            actions += try lifecycle.apply(.join(MatchPlayerID(seats.count - 1)))
        }
        carryOut(actions)
        return actions
    }

    private func apply(_ event: MatchLifecycleEvent) {
        do {
            carryOut(try lifecycle.apply(event))
        } catch {
            environment.logger.debug("match event refused", metadata: ["meridian.match": "\(matchID)", "meridian.error": "\(error)"])
        }
    }

    private func carryOut(_ actions: [MatchLifecycleAction]) {
        defer { publishPhase() }
        for action in actions {
            switch action {
            case .admitPlayer, .holdSeat, .resumePlayer, .removePlayer:
                break  // seats are bookkeeping here; the replicator sends a full snapshot after a long silence
            case .startCountdownTimer:
                schedule(after: rules.countdown) { $0.apply(.countdownElapsed) }
            case .cancelCountdownTimer:
                timer?.cancel()
                armLobbyTimer()
            case .startSimulation:
                startSimulation()
            case .stopSimulation:
                ticker?.cancel()
                ticker = nil
            case .deliverResults(let outcome):
                outcomeLabel = Self.label(outcome)
                deliverResults()
            case .abortMatch:
                outcomeLabel = outcomeLabel ?? "closed"
                deliverResults()
            case .releaseMatch:
                release()
            }
        }
    }

    /// Tells every subscriber about a phase change (reliable).
    private func publishPhase() {
        publisher.publish(phase: lifecycle.phase, tickRate: rules.tickRate)
    }

    private static func label(_ outcome: MatchOutcome) -> String {
        switch outcome {
        case .lastPlayerStanding: "lastPlayerStanding"
        case .timeLimitReached: "timeLimitReached"
        }
    }

    /// LOBBY: after the lobby wait (the matchmaker's backfill window), start the countdown if
    /// enough players are connected. Seated players who are not connected yet (a gateway still
    /// subscribing, a client reconnecting) are waited for up to 30 s more — the countdown starts
    /// the moment enough of them are back (``reconnect(player:)``), not at a later poll; with
    /// fewer seats than the minimum (someone left) nobody can come any more, and the match
    /// closes at once.
    private func armLobbyTimer() {
        lobbyDeadline = nil
        let deadline = clock.now.advanced(by: rules.lobbyWait + Self.lobbyReconnectWindow)
        schedule(after: rules.lobbyWait) { match in
            match.lobbyTimerFired(deadline: deadline)
        }
    }

    /// How long a lobby waits, after its lobby wait, for seated players to connect.
    static let lobbyReconnectWindow = Duration.seconds(30)

    /// Set while the lobby waits past its lobby wait for seated players to connect.
    private var lobbyDeadline: AnyClock.Instant?

    private func lobbyTimerFired(deadline: AnyClock.Instant) {
        guard lifecycle.phase == .lobby else { return }
        if lifecycle.connectedCount >= lifecycle.minPlayers {
            lobbyDeadline = nil
            apply(.startCountdown)
        } else if lifecycle.players.count < lifecycle.minPlayers || clock.now >= deadline {
            lobbyDeadline = nil
            apply(.close)
        } else {
            lobbyDeadline = deadline
            schedule(at: deadline) { $0.lobbyTimerFired(deadline: deadline) }
        }
    }

    /// A player came back or left while the lobby waits for seats: decide now rather than at the deadline.
    private func lobbyMayProceed() {
        guard let deadline = lobbyDeadline, lifecycle.phase == .lobby else { return }
        let canStart = lifecycle.connectedCount >= lifecycle.minPlayers
        let cannotFill = lifecycle.players.count < lifecycle.minPlayers
        if canStart || cannotFill { lobbyTimerFired(deadline: deadline) }
    }

    /// Runs `body` on the match after `delay` on the node's clock, replacing the pending timer.
    /// The deadline is fixed now, not when the task first runs (a stepped test clock may move
    /// in between).
    private func schedule(after delay: Duration, _ body: @escaping @Sendable (isolated MatchActor) async -> Void) {
        schedule(at: clock.now.advanced(by: delay), body)
    }

    /// Runs `body` on the match at `deadline` on the node's clock, replacing the pending timer.
    private func schedule(at deadline: AnyClock.Instant, _ body: @escaping @Sendable (isolated MatchActor) async -> Void) {
        timer?.cancel()
        let clock = clock
        timer = Task {
            try? await clock.sleep(until: deadline)
            guard !Task.isCancelled else { return }
            await body(self)
        }
    }

    private var clock: AnyClock { actorSystem.clock }

    // MARK: Tick

    private func startSimulation() {
        let roster = lifecycle.players.keys.sorted()
        for (index, id) in roster.enumerated() { simulationIndex[id] = index }
        var seed: UInt64 = 0
        withUnsafeBytes(of: matchID.uuid) { bytes in for byte in bytes.prefix(8) { seed = seed << 8 | UInt64(byte) } }
        simulation = MatchSimulation(configuration: rules.simulation(players: roster.count, seed: seed))
        replicator = SnapshotReplicator(clients: roster.count)
        let interval = Duration.seconds(1) / rules.tickRate
        let clock = clock
        let first = clock.now.advanced(by: interval)
        ticker = Task {
            var next = first
            while !Task.isCancelled {
                try? await clock.sleep(until: next)
                guard !Task.isCancelled else { return }
                guard self.tickOnce() else { return }
                next = next.advanced(by: interval)
                // Fell far behind (the node was overloaded): skip ahead rather than burst.
                let now = clock.now
                if next.duration(to: now) > interval * 5 { next = now.advanced(by: interval) }
            }
        }
    }

    /// One tick; returns false once the match is decided.
    private func tickOnce() -> Bool {
        guard var simulation else { return false }
        let started = ContinuousClock.now
        self.simulation = nil
        simulation.step()
        for event in simulation.events {
            if case .eliminated(let target, _) = event { eliminationOrder.append(Int(target)) }
        }
        self.simulation = simulation
        sendFrames(of: simulation)
        environment.statistics.record(ContinuousClock.now - started)
        guard let outcome = simulation.outcome else { return true }
        switch outcome {
        case .lastPlayerStanding(let winner):
            let id = winner.flatMap { index in simulationIndex.first(where: { $0.value == Int(index) })?.key }
            apply(.lastPlayerStanding(winner: id))
        case .timeLimitReached:
            apply(.timeLimitReached)
        }
        return false
    }

    private func sendFrames(of simulation: MatchSimulation) {
        guard !publisher.subscriberOf.isEmpty, var replicator else { return }
        self.replicator = nil
        var frames: [ClusterActorID: [UUID: PlayerPacket]] = [:]
        for (player, subscriber) in publisher.subscriberOf {
            guard let id = seatIndex[player], let index = simulationIndex[MatchPlayerID(id)] else { continue }
            let bytes = replicator.packet(for: MatchPlayerID(index), of: simulation)
            frames[subscriber, default: [:]][player] = PlayerPacket(
                entity: UInt16(index), lastInput: simulation.players[index].lastInputSequence, bytes: bytes
            )
        }
        self.replicator = replicator
        let phase = "\(lifecycle.phase)"
        for (subscriber, packets) in frames {
            publisher.send(MatchFrame(matchID: matchID, tick: simulation.tick, phase: phase, packets: packets), to: subscriber)
        }
    }

    // MARK: Results

    private func deliverResults() {
        let participants = seats.enumerated().map { index, seat in
            MatchResults.Participant(
                seat: seat,
                simulationIndex: simulationIndex[MatchPlayerID(index)],
                forfeited: forfeited.contains(index) || (simulation != nil && simulationIndex[MatchPlayerID(index)] == nil)
            )
        }
        let results = MatchResults.compute(
            matchID: matchID, participants: participants, simulation: lifecycle.outcome == nil ? nil : simulation,
            eliminationOrder: eliminationOrder, rules: rules, finishedAt: Date()
        )
        publisher.send(results)
        let homes = Dictionary(uniqueKeysWithValues: seats.map { ($0.player, $0.homeRegion) })
        let environment = environment
        let matchID = matchID
        Task {
            await withTaskGroup(of: Void.self) { group in
                for result in results {
                    group.addTask {
                        await Self.deliver(result, homeRegion: homes[result.player] ?? "", environment: environment, matchID: matchID)
                    }
                }
            }
            self.resultsDelivered()
        }
    }

    private static func deliver(_ result: MatchResultMessage, homeRegion: String, environment: MatchEnvironment, matchID: UUID) async {
        do {
            try await environment.retry.run(retryIf: { error in
                environment.logger.debug("match result not delivered yet; retrying", metadata: [
                    "meridian.match": "\(matchID)", "meridian.player": "\(result.player)", "meridian.error": "\(error)",
                ])
                return true
            }) {
                let home = try environment.directory.home(of: result.player, region: homeRegion)
                _ = try await home.applyMatchResult(result)
            }
        } catch {
            environment.logger.error("gave up delivering a match result", metadata: ["meridian.match": "\(matchID)", "meridian.player": "\(result.player)"])
        }
    }

    private func resultsDelivered() {
        apply(.resultsDelivered)
    }

    /// The lifecycle let the match go (closed, every result or "abandoned" notice out): once.
    private func release() {
        timer?.cancel()
        ticker?.cancel()
        publishPhase()  // CLOSED, before the end (this runs inside the step that closed the match)
        publisher.end()
        environment.statistics.matchStopped()
        environment.released(matchID)
    }
}
