import MeridianLatency
import MeridianCommandLine
import ArgumentParser
import Foundation
import MeridianBench
import MeridianSimulation

extension BenchCommand {
    /// `meridian-bench tick`: the authoritative match tick run in-process, without the network.
    struct Tick: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tick",
            abstract: "Match tick time (100 players, 60 Hz and 30 Hz, simulation + per-client deltas) and 100-player matches per core at 30 Hz.",
            discussion: "Build with -c release before quoting figures: swift build -c release --scratch-path .build-release --product meridian."
        )

        @Flag(help: "Print the results as one JSON array (one object per case).") var json = false
        @Option(help: "Simulated seconds per case.") var seconds: Int = 20
        @Option(help: "Players per match.") var players: Int = 100

        func run() async throws {
            var results: [TickBenchResult] = []
            for hz in [60, 30] {
                if !json { FileHandle.standardError.write(Data("running \(players) players at \(hz) Hz for \(seconds) simulated s…\n".utf8)) }
                results.append(TickBenchmark.single(hz: hz, players: players, seconds: seconds))
            }
            // One core's budget at 30 Hz divided by one match's p99 tick is the first guess; running
            // that many together (cache misses grow with the count) corrects it until p99 fits.
            let budgetMicroseconds = 1_000_000.0 / 30
            let perMatch = max(results[1].p99Microseconds, 1)
            var count = max(1, Int(budgetMicroseconds / perMatch))
            var held: TickBenchResult?
            for _ in 0..<5 {
                if !json { FileHandle.standardError.write(Data("running \(count) concurrent matches at 30 Hz on one core…\n".utf8)) }
                let result = TickBenchmark.concurrent(matches: count, hz: 30, players: players, seconds: max(2, seconds / 4))
                if result.p99Microseconds <= budgetMicroseconds {
                    held = result
                    break
                }
                count = max(1, Int(Double(count) * budgetMicroseconds / result.p99Microseconds * 0.97))
            }
            guard let held else {
                throw ValidationError("no match count kept p99 under the \(Int(budgetMicroseconds)) µs budget")
            }
            results.append(held)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(results), as: UTF8.self))
            } else {
                print("case          hz  players  matches   mean µs    p99 µs    max µs  bytes/client/s")
                for r in results {
                    print(
                        r.case.padding(toLength: 12, withPad: " ", startingAt: 0),
                        String(format: "%4d %8d %8d %9.1f %9.1f %9.1f %15.0f", r.hz, r.players, r.matches, r.meanMicroseconds, r.p99Microseconds, r.maxMicroseconds, r.bytesPerClientPerSecond)
                    )
                }
                print("matches-30hz: \(held.matches) concurrent 100-player matches stepped every 30 Hz tick on one core with p99 \(String(format: "%.0f", held.p99Microseconds)) µs ≤ 33,333 µs (first guess from one match's p99: \(Int(budgetMicroseconds / perMatch)))")
            }
        }
    }
}

/// One case of `meridian-bench tick`, with the JSON keys the reports read.
struct TickBenchResult: Codable, Sendable {
    var `case`: String
    var hz: Int
    var players: Int
    var matches: Int
    var meanMicroseconds: Double
    var p99Microseconds: Double
    var maxMicroseconds: Double
    var bytesPerClientPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case `case`, hz, players, matches
        case meanMicroseconds = "mean_us"
        case p99Microseconds = "p99_us"
        case maxMicroseconds = "max_us"
        case bytesPerClientPerSecond = "bytes_per_client_per_s"
    }
}

/// Drives matches of bots as fast as possible: each tick, every bot sends one input, the match
/// steps, and every client gets its delta; clients acknowledge three ticks late (about 100 ms at 30 Hz).
enum TickBenchmark {
    struct Match {
        var simulation: MatchSimulation
        var replicator: SnapshotReplicator
        var bots: SplitMix64
        var bytes = 0

        init(hz: Int, players: Int, seed: UInt64) {
            var configuration = SimulationConfiguration(tickRate: hz, maxPlayers: players)
            // Bots keep shooting for the whole run: enough health that the match does not end.
            configuration.maxHealth = 1_000_000
            configuration.timeLimit = 1_000_000
            configuration.seed = seed
            self.simulation = MatchSimulation(configuration: configuration)
            self.replicator = SnapshotReplicator(clients: players)
            self.bots = SplitMix64(seed: seed ^ 0xB075)
        }

        /// One tick: queue bot inputs, step, encode every client's packet, take late acks.
        mutating func tick() {
            let tick = self.simulation.tick
            for id in 0..<self.simulation.players.count {
                let r = self.bots.next()
                let input = PlayerInput(
                    sequence: tick, moveX: Int8(truncatingIfNeeded: r & 0xFF | 1), moveY: Int8(truncatingIfNeeded: (r >> 8) & 0xFF | 1),
                    aim: UInt16(truncatingIfNeeded: r >> 16), fire: (r >> 40) & 7 == 0, reload: false
                )
                self.simulation.enqueue(input, for: MatchPlayerID(id))
            }
            self.simulation.step()
            let now = self.simulation.tick
            for id in 0..<self.simulation.players.count {
                self.bytes += self.replicator.packet(for: MatchPlayerID(id), of: self.simulation).count
                if now > 3 { self.replicator.acknowledge(client: MatchPlayerID(id), tick: now - 3, now: now) }
            }
        }
    }

    static func microseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
    }

    static func summary(_ name: String, hz: Int, players: Int, matches: Int, _ recorder: LatencyRecorder, bytes: Int, clientSeconds: Double) -> TickBenchResult {
        TickBenchResult(
            case: name, hz: hz, players: players, matches: matches,
            meanMicroseconds: microseconds(recorder.mean), p99Microseconds: microseconds(recorder.p99),
            maxMicroseconds: microseconds(recorder.max), bytesPerClientPerSecond: clientSeconds > 0 ? Double(bytes) / clientSeconds : 0
        )
    }

    /// One match, `seconds` simulated seconds after one second of warm-up.
    static func single(hz: Int, players: Int, seconds: Int) -> TickBenchResult {
        var match = Match(hz: hz, players: players, seed: 1)
        for _ in 0..<hz { match.tick() }
        match.bytes = 0
        var recorder = LatencyRecorder()
        let clock = ContinuousClock()
        for _ in 0..<(hz * seconds) {
            let start = clock.now
            match.tick()
            recorder.record(clock.now - start)
        }
        return summary("match-\(hz)hz", hz: hz, players: players, matches: 1, recorder, bytes: match.bytes, clientSeconds: Double(players * seconds))
    }

    /// `matches` matches stepped one after another in each tick (one core); records the time of the whole tick.
    static func concurrent(matches count: Int, hz: Int, players: Int, seconds: Int) -> TickBenchResult {
        var matches = (0..<count).map { Match(hz: hz, players: players, seed: UInt64($0) + 1) }
        for _ in 0..<hz { for i in matches.indices { matches[i].tick() } }
        for i in matches.indices { matches[i].bytes = 0 }
        var recorder = LatencyRecorder()
        let clock = ContinuousClock()
        for _ in 0..<(hz * seconds) {
            let start = clock.now
            for i in matches.indices { matches[i].tick() }
            recorder.record(clock.now - start)
        }
        let bytes = matches.reduce(0) { $0 + $1.bytes }
        return summary("matches-\(hz)hz", hz: hz, players: players, matches: count, recorder, bytes: bytes, clientSeconds: Double(players * seconds * count))
    }
}
