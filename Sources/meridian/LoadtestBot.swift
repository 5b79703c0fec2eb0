import Foundation
import Logging
import MeridianLatency
import MeridianClient
import MeridianCluster
import MeridianSimulation
import MeridianTopology
import NIOCore
import Synchronization

/// One simulated player of the load generator: it lives at a simulated location (the
/// topology's latency to every region), connects to any gateway, locates the regions,
/// measures them, connects to the nearest, logs in and then either holds the connection
/// (`idle`) or plays: queue, play the match with inputs at the tick rate, queue again.
struct LoadtestBot: Sendable {
    let index: Int
    let topology: Topology
    let location: String
    let homeRegion: String
    let sourceAddress: String
    let idle: Bool
    /// How the bot logs in (a device account, or DevLogin where the topology allows it).
    let login: LoadtestLogin
    /// TLS to the gateways (`--tls-ca`); nil: plaintext.
    let tls: ClientTLS?
    /// How long a snapshot ack may wait for an input batch to carry it.
    let maxAckDelay: Duration
    let deadline: ContinuousClock.Instant
    let group: any EventLoopGroup
    let stats: LoadtestStats
    /// Bounds the bots of this worker that are setting up at once.
    let setupGate: LoadtestSetupGate
    let logger: Logger

    /// The simulated one-way delay from `location` to every region.
    var profile: LatencyProfile {
        var delays: [String: Duration] = [:]
        for region in topology.regions.map(\.name) {
            delays[region] = topology.latency.oneWay(from: location, to: region)
        }
        return LatencyProfile(oneWayDelay: delays)
    }

    func run() async {
        stats.update { $0.started += 1 }
        var configuration = GameClient.Configuration()
        configuration.latencyProfile = profile
        configuration.connection.localAddress = sourceAddress
        configuration.connection.tls = tls
        configuration.clientName = "meridian-loadtest/1"
        configuration.maxAckDelay = maxAckDelay
        configuration.snapshotEvents = false  // inputs go from onSnapshot; nothing reads them
        let stats = stats
        let client = GameClient(group: group, configuration: configuration, logger: logger) { latency in
            stats.recordInputToDelta(latency)
        }
        defer { Task { await client.finish() } }
        stats.phase(index, "waiting to set up")
        defer { stats.phase(index, nil) }
        do {
            try await setupGate.enter()
        } catch {
            return  // the run is over
        }
        var settingUp = true
        defer { if settingUp { setupGate.leave() } }
        do {
            // Any gateway answers Locate: those of the location's region (else all), in turn.
            let nodes = topology.nodes(in: location).isEmpty ? topology.nodes : topology.nodes(in: location)
            let seeds = (0..<nodes.count).map { nodes[(index + $0) % nodes.count] }
            stats.phase(index, "locating")
            var located: [String: [String]]?
            var lastError: (any Error)?
            for seed in seeds where located == nil {
                do {
                    try await client.connect(host: seed.gateway.host, port: seed.gateway.port, region: seed.region)
                    _ = try await client.hello()
                    located = try await client.locate()
                } catch {
                    lastError = error
                }
            }
            guard let regions = located else { throw lastError ?? MeridianClientError(.connectFailed, "no gateway answered") }
            // (No close here: connecting again below replaces this connection without a
            // disconnect event in the stream the play loop reads.)
            stats.phase(index, "measuring the regions")
            guard let choice = await GameClient.nearestRegion(from: regions, pings: 5, group: group, configuration: configuration, logger: logger) else {
                stats.error("no region answered")
                return
            }
            // Spread the bots over the chosen region's gateways.
            let gateways = regions[choice.region].flatMap { $0.isEmpty ? nil : $0 } ?? [choice.gateway]
            let setupStarted = ContinuousClock.now
            stats.phase(index, "logging in")
            try await logIn(client, region: choice.region, gateways: gateways)
            let setup = ContinuousClock.now - setupStarted
            settingUp = false
            setupGate.leave()
            stats.update {
                $0.connected += 1
                $0.loggedIn += 1
                $0.botsByRegion[choice.region, default: 0] += 1
                if choice.region == location {
                    $0.onNearestRegion += 1
                } else if $0.offNearestRegion.count < LoadtestReport.maxOffNearestRecorded {
                    $0.offNearestRegion.append(.init(location: location, chosen: choice.region, rttMilliseconds: choice.rtt.mapValues(\.reportMilliseconds)))
                }
            }
            stats.recordSetup(setup)
            defer { stats.update { $0.connected -= 1 } }
            if idle {
                // Hold the connection (a ping every 20 s) and let go at the deadline.
                while ContinuousClock.now < deadline {
                    try await Task.sleep(until: min(deadline, .now + .seconds(20)), clock: .continuous)
                    if ContinuousClock.now < deadline { _ = try await client.ping() }
                }
            } else {
                try await play(client, region: choice.region, gateways: gateways.isEmpty ? [choice.gateway] : gateways, rtt: choice.rtt)
            }
        } catch let error as MeridianClientError {
            // A server's refusal is counted by its code, so a report says which one it was.
            stats.error(error.serverCode.map { "server: \($0)" } ?? "\(error.code)")
            logger.warning("bot failed", metadata: ["bot": "\(index)", "login": "\(login)", "error": "\(error)"])
        } catch is CancellationError {
        } catch {
            stats.error("\(type(of: error))")
        }
    }

    /// Connects to the region's gateways in turn (starting with this bot's share) and logs in;
    /// a gateway that is down or a home that is unavailable (its node restarting) is retried
    /// for up to about 30 s.
    private func logIn(_ client: GameClient, region: String, gateways: [String]) async throws {
        var attempt = 0
        try await RetryPolicy(attempts: 60, initialPause: .milliseconds(500), maximumPause: .milliseconds(500)).run(retryIf: { error in
            guard let error = error as? MeridianClientError else { return false }
            return error.code == .connectFailed || error.code == .timeout || error.code == .connectionClosed || error.serverCode == .unavailable
        }) {
            defer { attempt += 1 }
            if homeRegion != region, let gateway = Self.gateway(in: homeRegion, for: index + attempt, topology: topology) {
                // A new account's home is where it is created: create this bot's at a gateway of
                // its home region first (a rerun finds it there and just logs in).
                var configuration = GameClient.Configuration()
                configuration.connection.localAddress = sourceAddress
                configuration.connection.tls = tls
                configuration.clientName = "meridian-loadtest/1"
                let home = GameClient(group: group, configuration: configuration, logger: logger)
                do {
                    let (host, port) = try Self.split(gateway)
                    try await home.connect(host: host, port: port, region: homeRegion)
                    _ = try await home.hello()
                    _ = try await login.logIn(home, index: index)
                } catch {
                    await home.close()
                    throw error
                }
                await home.close()
            }
            let (host, port) = try Self.split(gateways[(Self.spread(index) + attempt) % gateways.count])
            try await client.connect(host: host, port: port, region: region)
            _ = try await client.hello()
            let result = try await login.logIn(client, index: index)
            if result.homeRegion != homeRegion { stats.error("wrongHome") }
        }
    }

    /// Where bot `index` starts among its region's gateways. A bot's location (its region) is
    /// also picked from its index, so `index % count` would send every bot of a region to the
    /// same gateway whenever the count divides the number of locations; a multiplicative hash
    /// spreads them evenly whatever the counts.
    static func spread(_ index: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15) >> 33)
    }

    /// A gateway of `region` for the `turn`-th attempt.
    static func gateway(in region: String, for turn: Int, topology: Topology) -> String? {
        let nodes = topology.nodes(in: region)
        return nodes.isEmpty ? nil : nodes[turn % nodes.count].gateway.description
    }

    /// Queues. A refusal right after a match (the home has not applied the result yet, so the
    /// player still counts as playing) and an unavailable home (its node restarting) are
    /// retried for up to 20 s.
    private func queue(_ client: GameClient, rtt: [String: Duration]) async throws {
        stats.phase(index, "queueing")
        try await RetryPolicy(attempts: 80, initialPause: .milliseconds(250), maximumPause: .milliseconds(250)).run(retryIf: { error in
            guard let error = error as? MeridianClientError else { return false }
            return error.serverCode == .refused || error.serverCode == .unavailable || error.code == .timeout
        }) {
            do {
                _ = try await client.queue(rtt: rtt)
            } catch let error as MeridianClientError where error.code == .connectionClosed || error.code == .invalidState {
                return  // the connection dropped: the disconnect event follows; resuming queues again
            }
        }
    }

    /// What a playing bot waits for; named in the error when the run's watchdog cancels it.
    private enum Waiting: String { case match = "a match assignment", start = "the match to start", result = "the match result" }

    /// Plays until the deadline: queue, play, queue again. At the deadline a queued bot cancels
    /// its ticket and stops (nobody may be left to match it with); a bot in a match plays it out.
    /// A lost connection is resumed with the session token on the region's gateways in turn.
    private func play(_ client: GameClient, region: String, gateways: [String], rtt: [String: Duration]) async throws {
        // A queued client sends nothing for a while: keep the connection from idling out.
        let keepalive = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(20))
                _ = try? await client.ping()
            }
        }
        // The client's events and the deadline, in one stream.
        enum Step: Sendable { case game(GameEvent), deadline }
        let (steps, sink) = AsyncStream.makeStream(of: Step.self)
        let forward = Task {
            for await event in client.events { sink.yield(.game(event)) }
            sink.finish()
        }
        let alarm = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            sink.yield(.deadline)
        }
        defer {
            keepalive.cancel()
            forward.cancel()
            alarm.cancel()
            client.onSnapshot(nil)
        }
        var queuedAt = ContinuousClock.now
        try await queue(client, rtt: rtt)
        stats.update { $0.queued += 1 }
        var waiting = Waiting.match
        var playStarted: ContinuousClock.Instant?
        var bytesAtStart: UInt64 = 0
        var currentMatch = "-"
        /// When a leaving gateway redirected this bot during a match: the next snapshot (at the
        /// new gateway) ends the hand-over.
        let handOverSince = Mutex<ContinuousClock.Instant?>(nil)

        /// The match is over for this bot (a result, or lost while disconnected).
        func matchOver(lost: Bool) {
            client.onSnapshot(nil)
            let played = playStarted.map { ContinuousClock.now - $0 } ?? .zero
            let bytes = playStarted == nil ? 0 : client.bytesReceived &- bytesAtStart
            playStarted = nil
            stats.update {
                $0.matched -= 1
                if lost { $0.matchesLost += 1 } else { $0.matchesFinished += 1 }
                $0.playingSeconds += played.reportMilliseconds / 1000
                $0.bytesReceived += bytes
            }
        }
        func startPlaying() {
            playStarted = .now
            bytesAtStart = client.bytesReceived
            waiting = .result
            let inputs = Mutex(LoadtestInputs(seed: UInt64(index)))
            // One input batch per snapshot received (the match's tick rate), sent on the
            // connection's event loop as the snapshot is applied: no timer or task per bot.
            client.onSnapshot { [client, stats] _, _ in
                if let since = handOverSince.withLock({ $0.take() }) { stats.recordHandOver(.now - since) }
                let input = inputs.withLock { $0.next() }
                _ = try? client.sendInputs([input])
            }
        }

        for await step in steps {
            stats.phase(index, "waiting for \(waiting.rawValue)")
            let event: GameEvent
            switch step {
            case .deadline:
                guard waiting == .match else { continue }  // a match runs: play it out
                stats.phase(index, "cancelling its ticket")
                _ = try? await client.cancelQueue()
                stats.update { $0.queued -= 1 }
                return
            case .game(let game):
                event = game
            }
            switch event {
            case .matchEvent(let match) where match.phase == "assigned" && waiting == .match:
                currentMatch = "\(match.matchID) on \(match.node)"
                stats.recordTimeToMatch(ContinuousClock.now - queuedAt)
                stats.update {
                    $0.queued -= 1
                    $0.matched += 1
                }
                waiting = .start
            case .matchEvent(let match) where match.phase == "active" && waiting == .start:
                // Inputs only count once the simulation runs.
                startPlaying()
            case .result(let result):
                guard waiting != .match else { continue }
                matchOver(lost: result.outcome == "server_lost")
                guard ContinuousClock.now < deadline else { return }
                queuedAt = .now
                try await queue(client, rtt: rtt)
                stats.update { $0.queued += 1 }
                waiting = .match
            case .queueStatus(let status) where !status.queued && waiting == .match:
                guard ContinuousClock.now < deadline else {
                    stats.update { $0.queued -= 1 }
                    return
                }
                queuedAt = .now
                try await queue(client, rtt: rtt)
            case .redirected(_, let after):
                stats.update { $0.redirects += 1 }
                if waiting == .result { handOverSince.withLock { $0 = .now - after } }
            case .disconnected(let reason):
                stats.update { $0.disconnects += 1 }
                logger.debug("bot disconnected; resuming", metadata: ["reason": "\(reason)"])
                let (resumed, lastError) = await resume(client, region: region, gateways: gateways)
                guard let login = resumed else {
                    stats.error("could not resume after: \(reason.serverCode.map { "\($0)" } ?? "\(reason.code)") (last try: \(lastError ?? "none"))")
                    return
                }
                switch (login.session?.state, waiting) {
                case ("in_match", .match):
                    break  // the assignment event follows
                case ("in_match", _):
                    startPlaying()  // the match may have started meanwhile
                case ("queued", .match):
                    break
                case (_, .match):
                    // The ticket went with the connection's gateway: queue again.
                    guard ContinuousClock.now < deadline else {
                        stats.update { $0.queued -= 1 }
                        return
                    }
                    queuedAt = .now
                    try await queue(client, rtt: rtt)
                case (_, _):
                    // The match ended while the bot was away; its result went to the old connection.
                    matchOver(lost: true)
                    guard ContinuousClock.now < deadline else { return }
                    queuedAt = .now
                    try await queue(client, rtt: rtt)
                    stats.update { $0.queued += 1 }
                    waiting = .match
                }
            default:
                break
            }
        }
        // The stream ends only when the run's watchdog cancelled this bot.
        stats.error("stuck waiting for \(waiting.rawValue)")
        logger.warning("bot stuck", metadata: [
            "bot": "\(index)", "waiting": "\(waiting.rawValue)", "match": "\(currentMatch)",
        ])
    }

    /// Resumes the session on the region's gateways in turn (the one that dropped may be
    /// gone) for up to about 30 s.
    /// Resumes the session on the region's gateways in turn, as a game client does after a lost
    /// connection: with a backoff (0.5 s doubling to 5 s) for up to 3 minutes, since the node
    /// serving the player may be restarting or failing over. A login that can be neither resumed
    /// nor refreshed any more (its refresh reply was lost with a connection, so the token is
    /// spent) logs in again with the bot's credentials, as a game does with stored ones.
    /// Returns nil, and the last attempt's error, when it gives up.
    private func resume(_ client: GameClient, region: String, gateways: [String]) async -> (LoginResult?, lastError: String?) {
        stats.phase(index, "resuming its session")
        var lastError: String?
        var attempt = 0
        do {
            let login = try await RetryPolicy(limit: .seconds(180), initialPause: .milliseconds(500), maximumPause: .seconds(5)).run(retryIf: { error in
                if let error = error as? MeridianClientError {
                    lastError = error.serverCode.map { "server: \($0)" } ?? "\(error.code)"
                } else {
                    lastError = "\(type(of: error))"
                }
                return true
            }) {
                defer { attempt += 1 }
                return try await resumeOnce(client, gateway: gateways[(index + 1 + attempt) % gateways.count], region: region)
            }
            return (login, nil)
        } catch {
            return (nil, lastError)
        }
    }

    private func resumeOnce(_ client: GameClient, gateway: String, region: String) async throws -> LoginResult {
        let (host, port) = try Self.split(gateway)
        let refused: MeridianClientError
        do {
            return try await client.reconnect(host: host, port: port, region: region)
        } catch {
            guard error.serverCode == .badToken || error.serverCode == .loggedOut else { throw error }
            refused = error
        }
        logger.debug("bot's login cannot be resumed; logging in again", metadata: ["bot": "\(index)", "error": "\(refused)"])
        try await client.connect(host: host, port: port, region: region)
        _ = try await client.hello()
        return try await login.logIn(client, index: index)
    }

    /// Where bot `index` lives: the regions in turn.
    static func location(of index: Int, regions: [String]) -> String {
        regions[index % regions.count]
    }

    /// Bot `index`'s home region: its location, except one bot in ten, homed in another region
    /// (it plays where it is; its data calls go home).
    static func homeRegion(of index: Int, regions: [String]) -> String {
        index % 10 == 9 && regions.count > 1 ? regions[(index + 1) % regions.count] : location(of: index, regions: regions)
    }

    /// The player id of bot `index` (stable, so a rerun logs the same players in).
    static func playerID(_ index: Int) -> UUID {
        var bytes = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: UInt64(index).bigEndian) { for (offset, byte) in $0.enumerated() { bytes[8 + offset] = byte } }
        bytes[0] = 0x10
        bytes[6] = 0x40  // version 4 layout
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// A source address in 127.0.0.0/8 for bot `index`: 250 bots per address, so no address
    /// runs out of ports towards one gateway.
    static func sourceAddress(_ index: Int) -> String {
        let block = index / 250
        return "127.\(1 + block / 250 % 250).\(block % 250).\(1 + index % 250)"
    }

    static func split(_ address: String) throws -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw MeridianClientError(.connectFailed, "gateway address \(address) is not host:port")
        }
        return (String(address[..<colon]), port)
    }
}

/// Counters and latency histograms shared by one worker's bots.
final class LoadtestStats: Sendable {
    private struct State {
        var report = LoadtestReport()
        var setup = LatencyRecorder(resolution: .microseconds, highestTrackable: .seconds(600))
        var timeToMatch = LatencyRecorder(resolution: .microseconds, highestTrackable: .seconds(600))
        var inputToDelta = LatencyRecorder(resolution: .microseconds, highestTrackable: .seconds(600))
        var handOver = LatencyRecorder(resolution: .microseconds, highestTrackable: .seconds(600))
        /// What each running bot is doing, by bot index.
        var phases: [Int: String] = [:]
        var finalTaken = false
    }

    private let state = Mutex(State())

    /// Bot `bot` is now `phase` (nil: it stopped). Named when the run's watchdog finds bots
    /// that did not stop when cancelled.
    func phase(_ bot: Int, _ phase: String?) {
        state.withLock { $0.phases[bot] = phase }
    }

    /// How many bots are in each phase.
    func runningPhases() -> [String: Int] {
        state.withLock { state in state.phases.values.reduce(into: [:]) { $0[$1, default: 0] += 1 } }
    }

    func update(_ body: (inout LoadtestReport) -> Void) {
        state.withLock { body(&$0.report) }
    }

    func error(_ kind: String, count: Int = 1) {
        state.withLock { $0.report.errors[kind, default: 0] += count }
    }

    func recordSetup(_ latency: Duration) { state.withLock { $0.setup.record(latency) } }
    func recordTimeToMatch(_ latency: Duration) { state.withLock { $0.timeToMatch.record(latency) } }
    func recordInputToDelta(_ latency: Duration) { state.withLock { $0.inputToDelta.record(latency) } }
    func recordHandOver(_ latency: Duration) { state.withLock { $0.handOver.record(latency) } }

    /// The report so far, histograms included.
    func snapshot() -> LoadtestReport {
        state.withLock { Self.report(of: $0) }
    }

    /// The final report: the first caller gets it, later ones nil.
    func finalSnapshot() -> LoadtestReport? {
        state.withLock { state in
            guard !state.finalTaken else { return nil }
            state.finalTaken = true
            return Self.report(of: state)
        }
    }

    private static func report(of state: State) -> LoadtestReport {
        var report = state.report
        report.connectionSetup = state.setup.buckets
        report.timeToMatch = state.timeToMatch.buckets
        report.inputToDelta = state.inputToDelta.buckets
        report.handOver = state.handOver.buckets
        return report
    }
}

/// A bot's inputs: wander (a new direction every 30 inputs, a second at 30 Hz), aim around,
/// fire now and then.
struct LoadtestInputs: Sendable {
    private var random: SplitMix64
    private var count: UInt64 = 0
    private var moveX: Int8 = 0
    private var moveY: Int8 = 0

    init(seed: UInt64) {
        random = SplitMix64(seed: seed &+ 0x9E37_79B9)
    }

    mutating func next() -> PlayerInput {
        if count % 30 == 0 {
            moveX = Int8(truncatingIfNeeded: Int(random.next(below: 255)) - 127)
            moveY = Int8(truncatingIfNeeded: Int(random.next(below: 255)) - 127)
        }
        count += 1
        return PlayerInput(
            moveX: moveX, moveY: moveY, aim: UInt16(truncatingIfNeeded: random.next()),
            fire: random.next(below: 4) == 0, reload: random.next(below: 60) == 0
        )
    }
}
