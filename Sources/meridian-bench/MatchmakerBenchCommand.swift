import MeridianLatency
import MeridianCommandLine
import ArgumentParser
import Foundation
import MeridianBench
import MeridianMatchmaking
import MeridianSimulation

extension BenchCommand {
    /// `meridian-bench matchmaker`: one region's matchmaking pool under a Poisson arrival of
    /// tickets, in real time, with a pass every 100 ms as the region's matchmaker runs it.
    struct Matchmaker: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "matchmaker",
            abstract: "Time-to-match and pass duration of one region's matchmaking pool (20,000 tickets arriving over 10 s, a pass every 100 ms, real time).",
            discussion: "Build with -c release before quoting figures: swift build -c release --scratch-path .build-release --product meridian."
        )

        @Flag(help: "Print one JSON object per case.") var json = false
        @Option(help: "Tickets arriving (parties: 70% solo, 15% duo, 10% trio, 5% four).") var tickets: Int = 20_000
        @Option(help: "Seconds over which the tickets arrive (a Poisson process).") var seconds: Double = 10
        @Option(help: "Milliseconds between passes.") var passInterval: Int = 100
        @Option(help: "Seed of the generated workload.") var seed: UInt64 = 1

        func validate() throws {
            guard self.tickets > 0, self.seconds > 0, self.passInterval > 0 else {
                throw ValidationError("--tickets, --seconds and --pass-interval must be positive")
            }
        }

        func run() async throws {
            let name = "poisson-" + (self.seconds.rounded() == self.seconds ? String(Int(self.seconds)) : String(format: "%.1f", self.seconds)) + "s"
            if !self.json {
                FileHandle.standardError.write(Data("running \(name): \(self.tickets) tickets, a pass every \(self.passInterval) ms…\n".utf8))
            }
            let workload = MatchmakerWorkload(tickets: self.tickets, seconds: self.seconds, seed: self.seed)
            let run = try await MatchmakerBenchmark.run(workload, passInterval: .milliseconds(self.passInterval))
            let result = run.summary(case: name, tickets: self.tickets)
            if self.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode([result]), as: UTF8.self))
            } else {
                // Time-to-match per matched ticket, and the duration of each pass; "in flight"
                // is the most tickets queued at once.
                BenchTable.print([
                    BenchResult(case: "\(name) time-to-match", inflight: run.peakQueued, latencies: run.timeToMatch, window: run.elapsed),
                    BenchResult(case: "\(name) pass", inflight: run.peakQueued, latencies: run.passes, window: run.elapsed),
                ])
                print(
                    "\(name): \(result.tickets) tickets, \(result.matched) matched in \(run.matches) matches (\(run.backfills) backfills), "
                        + "\(result.overflowed) overflowed, \(result.unmatched) unmatched; "
                        + "time-to-match p50 \(Self.ms(result.p50Milliseconds)) ms, p99 \(Self.ms(result.p99Milliseconds)) ms, max \(Self.ms(result.maxMilliseconds)) ms; "
                        + "pass p50 \(Self.ms(result.passP50Milliseconds)) ms, p99 \(Self.ms(result.passP99Milliseconds)) ms, max \(Self.ms(result.passMaxMilliseconds)) ms"
                )
            }
        }

        private static func ms(_ value: Double) -> String {
            String(format: value < 10 ? "%.2f" : "%.0f", value)
        }
    }
}

/// One case of `meridian-bench matchmaker`, with the JSON keys the reports read.
struct MatchmakerBenchResult: Codable, Sendable {
    var `case`: String
    var tickets: Int
    /// Tickets matched (new matches and backfills).
    var matched: Int
    /// Tickets sent to another region: too far from this one, or past the overflow bound.
    var overflowed: Int
    /// Tickets still queued when the run ended.
    var unmatched: Int
    var p50Milliseconds: Double
    var p99Milliseconds: Double
    var maxMilliseconds: Double
    var passP50Milliseconds: Double
    var passP99Milliseconds: Double
    var passMaxMilliseconds: Double

    enum CodingKeys: String, CodingKey {
        case `case`, tickets, matched, overflowed, unmatched
        case p50Milliseconds = "p50_ms"
        case p99Milliseconds = "p99_ms"
        case maxMilliseconds = "max_ms"
        case passP50Milliseconds = "pass_p50_ms"
        case passP99Milliseconds = "pass_p99_ms"
        case passMaxMilliseconds = "pass_max_ms"
    }
}

/// Tickets as a region's players make them: skills normal around 1500 (sd 300), parties, RTTs
/// to the three regions of `Topology/local.yaml`, arriving as a Poisson process.
struct MatchmakerWorkload {
    static let region = "eu-west"
    static let neighbours = ["us-east", "ap-south"]

    /// Tickets with their arrival time since the start, in arrival order.
    var arrivals: [MatchmakingTicket] = []

    init(tickets count: Int, seconds: Double, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let rate = Double(count) / seconds
        var clock = 0.0
        var playerNumber: UInt64 = 0
        self.arrivals.reserveCapacity(count)
        for ticketNumber in 0..<count {
            // Exponential gaps: a Poisson process of `rate` tickets per second.
            clock += -log(1 - Self.unit(&random)) / rate
            let roll = random.next(below: 100)
            let size = roll < 70 ? 1 : roll < 85 ? 2 : roll < 95 ? 3 : 4
            // Friends play at similar levels: members scatter ±100 around the party's level.
            let level = Self.normal(&random, mean: 1500, sd: 300)
            let players = (0..<size).map { _ -> TicketPlayer in
                playerNumber += 1
                let rating = size == 1 ? level : Self.normal(&random, mean: level, sd: 100)
                return TicketPlayer(id: Self.id(playerNumber, kind: 1), skill: SkillRating(rating: rating, deviation: 60 + Double(random.next(below: 120)), volatility: 0.06))
            }
            self.arrivals.append(
                MatchmakingTicket(
                    id: Self.id(UInt64(ticketNumber), kind: 2), players: players, rttMilliseconds: Self.rtt(&random),
                    enqueuedAt: .nanoseconds(Int64(clock * 1e9))
                )
            )
        }
    }

    /// 85% live near eu-west, 10% nearer us-east (still within reach of eu-west), 5% in
    /// ap-south's reach only (too far from eu-west: they overflow at once).
    private static func rtt(_ random: inout SplitMix64) -> [String: Int] {
        func between(_ low: Int, _ high: Int) -> Int { low + Int(random.next(below: UInt32(high - low + 1))) }
        let roll = random.next(below: 100)
        if roll < 85 { return ["eu-west": between(10, 80), "us-east": between(80, 140), "ap-south": between(150, 260)] }
        if roll < 95 { return ["eu-west": between(80, 140), "us-east": between(15, 60), "ap-south": between(180, 280)] }
        return ["eu-west": between(160, 260), "us-east": between(190, 280), "ap-south": between(15, 70)]
    }

    private static func unit(_ random: inout SplitMix64) -> Double {
        Double(random.next() >> 11) / Double(UInt64(1) << 53)
    }

    /// Box–Muller.
    private static func normal(_ random: inout SplitMix64, mean: Double, sd: Double) -> Double {
        let u1 = 1 - unit(&random)
        let u2 = unit(&random)
        return mean + sd * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    private static func id(_ number: UInt64, kind: UInt8) -> UUID {
        let b = withUnsafeBytes(of: number.bigEndian) { Array($0) }
        return UUID(uuid: (kind, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, b[2], b[3], b[4], b[5], b[6], b[7]))
    }
}

/// Runs a workload against one pool in real time.
enum MatchmakerBenchmark {
    struct Run {
        var timeToMatch = LatencyRecorder(resolution: .microseconds)
        var passes = LatencyRecorder()
        var matches = 0
        var backfills = 0
        var matched = 0
        var overflowed = 0
        var unmatched = 0
        var peakQueued = 0
        var elapsed = Duration.zero

        func summary(case name: String, tickets: Int) -> MatchmakerBenchResult {
            func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15 }
            return MatchmakerBenchResult(
                case: name, tickets: tickets, matched: self.matched, overflowed: self.overflowed, unmatched: self.unmatched,
                p50Milliseconds: ms(self.timeToMatch.p50), p99Milliseconds: ms(self.timeToMatch.p99), maxMilliseconds: ms(self.timeToMatch.max),
                passP50Milliseconds: ms(self.passes.p50), passP99Milliseconds: ms(self.passes.p99), passMaxMilliseconds: ms(self.passes.max)
            )
        }
    }

    /// Enqueues each ticket once its arrival time has come (the clock is read before every
    /// pass and between sleeps), runs a pass every `passInterval`, and records for every
    /// matched ticket the time from its arrival to the end of the pass that matched it.
    /// Ends when every ticket has arrived and left the pool, or 60 s after the last arrival.
    static func run(_ workload: MatchmakerWorkload, passInterval: Duration) async throws -> Run {
        var pool = MatchmakingPool(region: MatchmakerWorkload.region, neighbours: MatchmakerWorkload.neighbours)
        var run = Run()
        let arrivals = workload.arrivals
        let lastArrival = arrivals.last?.enqueuedAt ?? .zero
        let clock = ContinuousClock()
        let start = clock.now
        var next = 0
        var passNumber = 0
        while next < arrivals.count || pool.queuedTickets > 0 {
            passNumber += 1
            let passAt = start + passInterval * passNumber
            // Arrivals until the pass: enqueue whatever is due, sleep until the next one is.
            while next < arrivals.count {
                let due = start + arrivals[next].enqueuedAt
                if due > passAt { break }
                if due > clock.now { try await Task.sleep(until: min(due, passAt), clock: clock) }
                let now = clock.now - start
                while next < arrivals.count && arrivals[next].enqueuedAt <= now {
                    try pool.enqueue(arrivals[next])
                    next += 1
                }
            }
            if passAt > clock.now { try await Task.sleep(until: passAt, clock: clock) }
            run.peakQueued = max(run.peakQueued, pool.queuedTickets)

            let begin = clock.now
            let result = pool.pass(now: begin - start)
            let end = clock.now
            run.passes.record(end - begin)
            let formedAt = end - start
            for match in result.formed + result.backfilled {
                if match.matchID == nil { run.matches += 1 } else { run.backfills += 1 }
                for ticket in match.tickets { run.timeToMatch.record(formedAt - ticket.enqueuedAt) }
                run.matched += match.tickets.count
            }
            run.overflowed += result.overflowed.count
            if next == arrivals.count && formedAt > lastArrival + .seconds(60) { break }
        }
        run.unmatched = pool.queuedTickets
        run.elapsed = clock.now - start
        return run
    }
}
