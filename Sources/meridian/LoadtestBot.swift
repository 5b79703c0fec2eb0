import Foundation
import Logging
import MeridianBench
import MeridianClient
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
    let deadline: ContinuousClock.Instant
    let group: any EventLoopGroup
    let stats: LoadtestStats
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
        configuration.clientName = "meridian-loadtest/1"
        let stats = stats
        let client = GameClient(group: group, configuration: configuration, logger: logger) { latency in
            stats.recordInputToDelta(latency)
        }
        defer { Task { await client.finish() } }
        do {
            // Any gateway answers Locate: use one of the location's region, else the first node.
            let nodes = topology.nodes(in: location).isEmpty ? topology.nodes : topology.nodes(in: location)
            let seed = nodes[index % nodes.count]
            try await client.connect(host: seed.gateway.host, port: seed.gateway.port, region: seed.region)
            _ = try await client.hello()
            let regions = try await client.locate()
            // (No close here: connecting again below replaces this connection without a
            // disconnect event in the stream the play loop reads.)
            guard let choice = await GameClient.nearestRegion(from: regions, pings: 3, group: group, configuration: configuration, logger: logger) else {
                stats.error("no region answered")
                return
            }
            // Spread the bots over the chosen region's gateways.
            let gateways = regions[choice.region] ?? [choice.gateway]
            let (host, port) = try Self.split(gateways.isEmpty ? choice.gateway : gateways[index % gateways.count])
            let setupStarted = ContinuousClock.now
            try await client.connect(host: host, port: port, region: choice.region)
            _ = try await client.hello()
            _ = try await client.devLogin(playerID: Self.playerID(index).uuidString, displayName: "bot-\(index)", homeRegion: homeRegion)
            let setup = ContinuousClock.now - setupStarted
            stats.update {
                $0.connected += 1
                $0.loggedIn += 1
                $0.botsByRegion[choice.region, default: 0] += 1
                if choice.region == location { $0.onNearestRegion += 1 }
            }
            stats.recordSetup(setup)
            defer { stats.update { $0.connected -= 1 } }
            if idle {
                while ContinuousClock.now < deadline {
                    try await Task.sleep(for: .seconds(20))
                    _ = try await client.ping()
                }
            } else {
                try await play(client, rtt: choice.rtt)
            }
        } catch let error as MeridianClientError {
            stats.error("\(error.code)")
        } catch is CancellationError {
        } catch {
            stats.error("\(type(of: error))")
        }
    }

    /// Queues; a refusal right after a match (the home has not applied the result yet, so the
    /// player still counts as playing) is retried a few times.
    private func queue(_ client: GameClient, rtt: [String: Duration]) async throws {
        var attempt = 0
        while true {
            attempt += 1
            let refusal: MeridianClientError
            do {
                _ = try await client.queue(rtt: rtt)
                return
            } catch {
                refusal = error
            }
            guard refusal.serverCode == .refused, attempt < 20 else { throw refusal }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    private func play(_ client: GameClient, rtt: [String: Duration]) async throws {
        // A queued client sends nothing for a while: keep the connection from idling out.
        let keepalive = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(20))
                _ = try? await client.ping()
            }
        }
        defer { keepalive.cancel() }
        var queuedAt = ContinuousClock.now
        try await queue(client, rtt: rtt)
        stats.update { $0.queued += 1 }
        var sender: Task<Void, Never>?
        var playStarted: ContinuousClock.Instant?
        defer { sender?.cancel() }
        for await event in client.events {
            switch event {
            case .matchEvent(let match) where match.phase == "assigned":
                stats.recordTimeToMatch(ContinuousClock.now - queuedAt)
                stats.update {
                    $0.queued -= 1
                    $0.matched += 1
                }
            case .matchEvent(let match) where match.phase == "active":
                // Inputs only count once the simulation runs.
                playStarted = .now
                sender?.cancel()
                sender = Task { await Self.sendInputs(client, seed: UInt64(index)) }
            case .result:
                sender?.cancel()
                sender = nil
                let played = playStarted.map { ContinuousClock.now - $0 } ?? .zero
                stats.update {
                    $0.matched -= 1
                    $0.matchesFinished += 1
                    $0.playingSeconds += Double(played.components.seconds) + Double(played.components.attoseconds) * 1e-18
                }
                guard ContinuousClock.now < deadline else { return }
                queuedAt = .now
                try await queue(client, rtt: rtt)
                stats.update { $0.queued += 1 }
            case .queueStatus(let status) where !status.queued:
                guard ContinuousClock.now < deadline else { return }
                queuedAt = .now
                try await queue(client, rtt: rtt)
            case .disconnected(let reason):
                stats.update { $0.disconnects += 1 }
                stats.error("disconnected: \(reason.serverCode.map { "\($0)" } ?? "\(reason.code)")")
                logger.debug("bot disconnected", metadata: ["reason": "\(reason)"])
                return
            default:
                if ContinuousClock.now >= deadline, sender == nil { return }
            }
        }
    }

    /// Inputs at 30 Hz: wander, aim around, fire now and then.
    private static func sendInputs(_ client: GameClient, seed: UInt64) async {
        var random = SplitMix64(seed: seed &+ 0x9E37_79B9)
        var moveX: Int8 = 0
        var moveY: Int8 = 0
        var tick: UInt64 = 0
        while !Task.isCancelled {
            if tick % 30 == 0 {
                moveX = Int8(truncatingIfNeeded: Int(random.next(below: 255)) - 127)
                moveY = Int8(truncatingIfNeeded: Int(random.next(below: 255)) - 127)
            }
            let input = PlayerInput(
                moveX: moveX, moveY: moveY, aim: UInt16(truncatingIfNeeded: random.next()),
                fire: random.next(below: 4) == 0, reload: random.next(below: 60) == 0
            )
            _ = try? client.sendInputs([input])
            tick += 1
            try? await Task.sleep(for: .milliseconds(33))
        }
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
    }

    private let state = Mutex(State())

    func update(_ body: (inout LoadtestReport) -> Void) {
        state.withLock { body(&$0.report) }
    }

    func error(_ kind: String) {
        state.withLock { $0.report.errors[kind, default: 0] += 1 }
    }

    func recordSetup(_ latency: Duration) { state.withLock { $0.setup.record(latency) } }
    func recordTimeToMatch(_ latency: Duration) { state.withLock { $0.timeToMatch.record(latency) } }
    func recordInputToDelta(_ latency: Duration) { state.withLock { $0.inputToDelta.record(latency) } }

    /// The report so far, histograms included.
    func snapshot() -> LoadtestReport {
        state.withLock { state in
            var report = state.report
            report.connectionSetup = state.setup.buckets
            report.timeToMatch = state.timeToMatch.buckets
            report.inputToDelta = state.inputToDelta.buckets
            return report
        }
    }
}
