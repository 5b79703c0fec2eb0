import ArgumentParser
import Foundation
import Logging
import MeridianChaos
import MeridianCommandLine
import MeridianMembership

/// `meridian chaos`: a 3-region cluster of real node processes under a mixed workload, with
/// faults injected on a seeded schedule, then checked for lost, duplicated or stuck state once
/// every fault has healed. `scripts/chaos` runs it (and `--postgres` under a throwaway
/// PostgreSQL); `scripts/test` runs a short round.
struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Run a local 3-region cluster under load and injected faults, then check its invariants.",
        discussion: """
            Faults (one at a time, on a schedule drawn from --seed): kill -9 and restart of a node, \
            SIGSTOP/SIGCONT pauses shorter and longer than the failure detector's bound, partitions \
            between regions and between two nodes of one region, slow links. Workload: load-test bots \
            playing matches, cross-region trades, grants and consumes with idempotency keys sent again \
            on purpose, transfers of home regions, catalog publishes. Exit 1 when a checker finds a \
            counterexample, with the seed to replay the run.
            """
    )

    @Option(help: "Seconds of the faulty phase (the workload runs throughout; then faults heal and the cluster settles).")
    var duration: Double = 120

    @Option(help: "Seed of the fault schedule and the workload. Default: a random one, printed.")
    var seed: UInt64?

    @Option(help: "Fault kinds, comma-separated: kill, pause, partition, slow.")
    var faults: String = "kill,pause,partition,slow"

    @Option(help: "Load-test bots playing matches throughout.")
    var bots: Int = 24

    @Option(help: "Accounts that trade, receive grants, consume and move between regions.")
    var players: Int = 12

    @Option(help: "Seconds allowed after the faults for the cluster to settle and every operation to finish.")
    var settle: Double = 120

    @Flag(help: "Per-region PostgreSQL databases from $MERIDIAN_TEST_POSTGRES_{EU_WEST,US_EAST,AP_SOUTH}_URL (scripts/chaos --postgres sets them) instead of SQLite files.")
    var postgres = false

    @Option(help: "Working directory (topology, catalog, node logs and databases); emptied first. It must be new or one an earlier run made.")
    var directory: String = "data/chaos"

    @Flag(help: "Print one JSON document: settings, faults, operations and every checker's result.")
    var json = false

    @Flag(help: "Only print the fault schedule the seed gives (no cluster is started).")
    var plan = false

    @Flag(help: "Soak instead of faults: --idle-clients idle clients and --bots playing bots for --duration seconds (no faults), sampling every node's resident memory and open files; fails when either grows (memory more than 5 %), a node crashes or a client is dropped.")
    var soak = false

    @Option(help: "Idle clients holding a connection during a --soak.")
    var idleClients: Int = 10_000

    @Option(help: "Seconds over which a --soak's idle clients log in.")
    var idleRamp: Double = 600

    @Option(help: "Seconds between two samples of a --soak.")
    var sampleInterval: Double = 10

    @Option(help: "Seconds after every client connected before a --soak's curve starts.")
    var warmUp: Double = 120

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        _ = try faultKinds()
        if !(duration >= 10) { throw ValidationError("--duration must be at least 10 seconds") }
        if !(settle > 0) { throw ValidationError("--settle must be a positive number of seconds") }
        if players < 2 { throw ValidationError("--players must be at least 2 (trades need two)") }
        if bots < 0 { throw ValidationError("--bots must not be negative") }
        if soak {
            if idleClients < 0 { throw ValidationError("--idle-clients must not be negative") }
            if !(idleRamp >= 0) { throw ValidationError("--idle-ramp must not be negative") }
            if !(sampleInterval >= 1) { throw ValidationError("--sample-interval must be at least 1 second") }
            if !(warmUp >= 0) { throw ValidationError("--warm-up must not be negative") }
            if duration < sampleInterval * Double(SoakCurve.window * 2) {
                throw ValidationError("--duration of a --soak must hold at least \(SoakCurve.window * 2) samples (\(Int(sampleInterval * Double(SoakCurve.window * 2))) s at --sample-interval \(Int(sampleInterval)))")
            }
        }
    }

    func faultKinds() throws -> Set<ChaosFaultKind> {
        var kinds: Set<ChaosFaultKind> = []
        for name in faults.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let kind = ChaosFaultKind(rawValue: name) else {
                throw ValidationError("unknown fault kind \"\(name)\" in --faults; the kinds are \(ChaosFaultKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            kinds.insert(kind)
        }
        return kinds
    }

    func run() async throws {
        var logger = logging.bootstrap()
        logger.logLevel = .warning
        let seed = self.seed ?? UInt64.random(in: 1...UInt64(UInt32.max))
        if plan {
            let schedule = ChaosRun.schedule(seed: seed, kinds: try faultKinds(), duration: .milliseconds(Int64(duration * 1000)))
            if json {
                print(ChaosOutcome(schedule: schedule, tallies: [:], checks: [], matchesFinished: 0, settledIn: .zero).json(seed: seed, storage: postgres ? "postgres" : "sqlite"))
            } else {
                print("seed \(seed): \(schedule.faults.count) faults (\(schedule.counts.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")))")
                for fault in schedule.faults { print("  \(fault)") }
            }
            return
        }
        let progress = ChaosProgress()
        if soak {
            try await runSoak(logger: logger, progress: progress)
            return
        }
        progress.say("meridian chaos: seed \(seed), \(Int(duration)) s of faults (\(faults)), \(bots) bots, \(players) players, \(postgres ? "PostgreSQL" : "SQLite")")

        let cluster = try await ChaosCluster.start(
            directory: directory, postgres: postgres, bots: bots, logger: logger, progress: progress
        )
        let outcome: ChaosOutcome
        do {
            outcome = try await ChaosRun(
                cluster: cluster, seed: seed, kinds: try faultKinds(), players: players,
                duration: .milliseconds(Int64(duration * 1000)), settle: .milliseconds(Int64(settle * 1000)),
                logger: logger, progress: progress
            ).run()
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
        if json {
            print(outcome.json(seed: seed, storage: postgres ? "postgres" : "sqlite"))
        } else {
            print(outcome.text(seed: seed))
        }
        if !outcome.passed { throw ExitCode(1) }
    }
}

extension ChaosCommand {
    func runSoak(logger: Logger, progress: ChaosProgress) async throws {
        progress.say("meridian chaos --soak: \(idleClients) idle and \(bots) playing clients, \(Int(duration)) s after a \(Int(warmUp)) s warm-up, \(postgres ? "PostgreSQL" : "SQLite")")
        let cluster = try await ChaosCluster.start(directory: directory, postgres: postgres, bots: bots, logger: logger, progress: progress)
        let outcome: ChaosSoak.Outcome
        do {
            outcome = try await ChaosSoak(
                cluster: cluster, idle: idleClients, idleRamp: .milliseconds(Int64(idleRamp * 1000)), duration: .milliseconds(Int64(duration * 1000)), warmUp: .milliseconds(Int64(warmUp * 1000)),
                interval: .milliseconds(Int64(sampleInterval * 1000)), maxResidentGrowth: 0.05, progress: progress
            ).run()
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
        print(json ? outcome.json() : outcome.text())
        if !outcome.passed { throw ExitCode(1) }
    }
}

/// Progress lines on standard error while the run goes (standard output carries the report).
struct ChaosProgress: Sendable {
    let start = ContinuousClock.now

    func say(_ line: String) {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        FileHandle.standardError.write(Data("[\(String(format: "%7.1f", seconds)) s] \(line)\n".utf8))
    }
}
