import MeridianCommandLine
import ArgumentParser
import Foundation
import MeridianClient
import Logging
import MeridianLatency
import MeridianCluster
import MeridianIdentity
import MeridianRegion
import MeridianTopology
import MeridianWire
import NIOPosix
import Synchronization

/// `meridian loadtest`: N bot clients against a running cluster, in as many worker processes
/// as the open-files limit needs (each under ~18,000 sockets), merged into one report.
struct LoadtestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Bots that locate, pick the nearest region, log in and play (or idle) against a running cluster.",
        subcommands: [Run.self, Worker.self, Bots.self],
        defaultSubcommand: Run.self
    )

    struct Options: ParsableArguments {
        @Option(help: "Topology file of the running cluster (gateway addresses, regions, latency).")
        var topology: String
        @Option(help: "Number of bots.")
        var players: Int = 100
        @Option(help: "Seconds over which the bots start (a linear launch curve).")
        var ramp: Double = 10
        @Option(help: "Seconds the bots keep playing (or holding) after the ramp.")
        var duration: Double = 30
        @Flag(help: "Log in and hold the connections without playing.")
        var idle = false
        @Option(help: "Seconds after the end that bots still in a match may take to finish it before they count as stuck (at least the match time limit).")
        var grace: Double = Self.defaultGrace
        @Option(help: "Milliseconds a bot's snapshot ack may wait to ride on its next input batch (GameClient.Configuration.maxAckDelay); 0 sends every ack alone.")
        var maxAckDelayMs = 40
        @Option(help: "How bots log in: device (a guest account per bot) or dev (DevLogin, needs dev_login in the topology). Default: dev where the topology allows it, else device.")
        var login: LoadtestLogin?
        @Option(help: "PEM file of the CA that signed the gateways' certificates: connect over TLS (to gateways started with --gateway-tls-cert).")
        var tlsCA: String?
        @Option(help: "Number of the first bot: bots are numbered --first-bot ..< --first-bot + --players, and a bot's number is its player, so two load tests at once use different ranges.")
        var firstBot = 0

        func validate() throws {
            if firstBot < 0 { throw ValidationError("--first-bot must be 0 or more") }
        }

        /// TLS to the gateways, when --tls-ca is given; a file that cannot be read exits 1.
        func clientTLS() throws -> ClientTLS? {
            guard let tlsCA else { return nil }
            do {
                return try ClientTLS.load(caFile: tlsCA)
            } catch {
                throw ValidationError("--tls-ca: \(error)")
            }
        }

        /// The example catalog's 120 s match time limit, plus a margin.
        static let defaultGrace: Double = 150
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the load test (the default).")
        @OptionGroup var options: Options
        @Option(help: "Bots per worker process (each bot holds one socket; the per-process limit here is 20,000 files).")
        var botsPerProcess = 15_000
        @Flag(help: "Print the final report as JSON.")
        var json = false
        @OptionGroup var secret: SecretOptions

        func run() async throws {
            let (topology, _) = try Topology.loadOrExplain(options.topology)  // fail here, with file:line, rather than in every worker
            let login = try LoadtestLogin.resolve(options.login, topology: topology)
            _ = try options.clientTLS()  // a bad CA file fails here, not in every worker
            // Tick time, clients and memory per node come from the nodes themselves (as a tool
            // client of the cluster); without the secret the report leaves them out.
            var logger = Logger(label: "meridian.loadtest")
            logger.logLevel = .warning
            let statusClient = try? await StatusClient.start(topology: topology, secret: try secret.load(), logger: logger)
            let sampler = statusClient.map { client in Task { await LoadtestNodeSampler(client: client).run() } }
            let workers = max(1, (options.players + botsPerProcess - 1) / botsPerProcess)
            let started = ContinuousClock.now
            var workerProcesses: [LoadtestWorkerProcess] = []
            for worker in 0..<workers {
                let offset = worker * botsPerProcess
                workerProcesses.append(try LoadtestWorkerProcess(
                    executable: currentExecutablePath(), topology: options.topology, players: options.players,
                    ramp: options.ramp, duration: options.duration, idle: options.idle,
                    first: options.firstBot + offset, count: min(botsPerProcess, options.players - offset), grace: options.grace,
                    maxAckDelayMs: options.maxAckDelayMs, login: login, tlsCA: options.tlsCA, firstBot: options.firstBot
                ))
            }
            var cpu = LoadtestCPU()
            while workerProcesses.contains(where: \.isRunning) {
                try await Task.sleep(for: .seconds(1))
                let progress = LoadtestWorkerProcess.merged(workerProcesses)
                let now = ContinuousClock.now
                cpu.load.append(LoadtestCPU.Load(at: now, playing: progress.matched, connected: progress.connected))
                let workerCPU = workerProcesses.compactMap(\.cpuSeconds)
                if workerCPU.count == workerProcesses.count {
                    cpu.generator.append(LoadtestCPU.Sample(at: now, cpuSeconds: workerCPU.reduce(0, +)))
                }
                FileHandle.standardError.write(Data(Self.progress(progress, elapsed: now - started).utf8))
            }
            for worker in workerProcesses { await worker.waitForOutput() }
            FileHandle.standardError.write(Data("\n".utf8))
            sampler?.cancel()
            let nodes = await sampler?.value
            await statusClient?.system.shutdown()
            let report = LoadtestWorkerProcess.merged(workerProcesses)
            for (node, figures) in nodes ?? [:] { cpu.nodes[node] = figures.cpu }
            let steadyStart = started + .milliseconds(Int64(options.ramp * 1000))
            let figures = cpu.figures(from: steadyStart, to: steadyStart + .milliseconds(Int64(options.duration * 1000)))
            print(json
                ? Self.json(report, nodes: nodes, cpu: figures, options: options, workers: workers)
                : Self.table(report, nodes: nodes, cpu: figures, options: options, workers: workers))
        }

        static func progress(_ report: LoadtestReport, elapsed: Duration) -> String {
            "\r\(elapsed.components.seconds) s  started \(report.started)/\(report.bots)  connected \(report.connected)  queued \(report.queued)  in match \(report.matched)  matches done \(report.matchesFinished)  errors \(report.errors.values.reduce(0, +))   "
        }

        static func ms(_ duration: Duration) -> String {
            String(format: "%.1f", duration.reportMilliseconds)
        }

        static func table(_ report: LoadtestReport, nodes: [String: LoadtestNodeFigures]?, cpu: LoadtestCPU.Figures, options: Options, workers: Int) -> String {
            let setup = LoadtestReport.recorder(report.connectionSetup)
            let match = LoadtestReport.recorder(report.timeToMatch)
            let input = LoadtestReport.recorder(report.inputToDelta)
            var lines = [
                "loadtest: \(report.bots) bots in \(workers) process(es), ramp \(options.ramp) s, \(options.idle ? "idle" : "playing") \(options.duration) s",
                "logged in            \(report.loggedIn)  (on the nearest region of their location: \(report.onNearestRegion))",
            ] + report.offNearestRegion.prefix(5).map { off in
                "  chose \(off.chosen) from \(off.location), measured \(off.rttMilliseconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value)) ms" }.joined(separator: ", "))"
            } + [
                "bots per region      \(report.botsByRegion.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))",
                "connection setup     p50 \(ms(setup.p50)) ms  p99 \(ms(setup.p99)) ms  (\(setup.count) samples; connect + hello + login)",
                "time to match        p50 \(ms(match.p50)) ms  p99 \(ms(match.p99)) ms  (\(match.count) matches)",
                "input → delta        p50 \(ms(input.p50)) ms  p99 \(ms(input.p99)) ms  (\(input.count) inputs; includes the simulated latency)",
                "matches finished     \(report.matchesFinished)  (lost with a node or while reconnecting: \(report.matchesLost))",
                "bytes/s per client   \(Int(report.downstreamBytesPerSecond))  (received while playing, over \(Int(report.playingSeconds)) bot-seconds)",
                "disconnects          \(report.disconnects)",
            ]
            let handOver = LoadtestReport.recorder(report.handOver)
            lines.append("redirects            \(report.redirects)  (hand-over to playing again: p50 \(ms(handOver.p50)) ms  p99 \(ms(handOver.p99)) ms, \(handOver.count) playing bots)")
            let errors = report.errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            lines.append("errors               \(errors.isEmpty ? "none" : errors.joined(separator: " "))")
            func figure(_ value: Double?, _ format: String = "%.3f") -> String { value.map { String(format: format, $0) } ?? "-" }
            lines.append(
                "node CPU             \(figure(cpu.nodeMsPerPlayingClientSecond)) ms per playing client-second"
                    + "  (\(figure(cpu.nodeMsPerConnectedClientSecond)) per connected; steady \(Int(cpu.windowSeconds)) s, "
                    + "\(figure(cpu.averagePlaying, "%.0f")) playing of \(figure(cpu.averageConnected, "%.0f")) connected)"
            )
            lines.append(
                "generator CPU        \(figure(cpu.generatorMsPerBotSecond)) ms per bot-second  (\(figure(cpu.generatorPercent, "%.0f")) % of a core)"
            )
            if let nodes {
                lines.append("per node             ticks   tick mean µs  tick max µs  peak clients  peak active matches  peak RSS MB  actors peak/end  CPU %")
                for (id, node) in nodes.sorted(by: { $0.key < $1.key }) {
                    lines.append("  " + id.padding(toLength: 18, withPad: " ", startingAt: 0) + String(
                        format: " %7d  %12.1f  %11.1f  %12d  %19d  %11.1f  %7d/%d", node.ticks, node.tickMeanMicroseconds,
                        node.tickMaxMicroseconds, node.peakClients, node.peakActiveMatches, Double(node.peakResidentBytes) / 1_048_576,
                        node.peakActors, node.actorsAtEnd, cpu.nodePercent[id] ?? 0
                    ))
                }
            } else {
                lines.append("per node             (not sampled: pass --secret-file or set MERIDIAN_CLUSTER_SECRET)")
            }
            return lines.joined(separator: "\n")
        }

        static func json(_ report: LoadtestReport, nodes: [String: LoadtestNodeFigures]?, cpu: LoadtestCPU.Figures, options: Options, workers: Int) -> String {
            let setup = LoadtestReport.recorder(report.connectionSetup)
            let match = LoadtestReport.recorder(report.timeToMatch)
            let input = LoadtestReport.recorder(report.inputToDelta)
            let object: [String: Any] = [
                "bots": report.bots, "processes": workers, "idle": options.idle, "logged_in": report.loggedIn,
                "on_nearest_region": report.onNearestRegion, "bots_by_region": report.botsByRegion,
                "off_nearest_region": report.offNearestRegion.map { ["location": $0.location, "chosen": $0.chosen, "rtt_ms": $0.rttMilliseconds] },
                "connection_setup_p50_ms": setup.p50.reportMilliseconds, "connection_setup_p99_ms": setup.p99.reportMilliseconds,
                "time_to_match_p50_ms": match.p50.reportMilliseconds, "time_to_match_p99_ms": match.p99.reportMilliseconds,
                "input_to_delta_p50_ms": input.p50.reportMilliseconds, "input_to_delta_p99_ms": input.p99.reportMilliseconds,
                "matches_finished": report.matchesFinished, "matches_lost": report.matchesLost,
                "bytes_per_second_per_client": report.downstreamBytesPerSecond,
                "disconnects": report.disconnects, "errors": report.errors,
                "redirects": report.redirects,
                "hand_over_p50_ms": LoadtestReport.recorder(report.handOver).p50.reportMilliseconds,
                "hand_over_p99_ms": LoadtestReport.recorder(report.handOver).p99.reportMilliseconds,
                "hand_overs_measured": LoadtestReport.recorder(report.handOver).count,
                "steady_seconds": cpu.windowSeconds, "steady_playing_clients": cpu.averagePlaying,
                "steady_connected_clients": cpu.averageConnected,
                "node_cpu_ms_per_client_s": cpu.nodeMsPerPlayingClientSecond ?? NSNull(),
                "node_cpu_ms_per_connected_client_s": cpu.nodeMsPerConnectedClientSecond ?? NSNull(),
                "generator_cpu_ms_per_bot_s": cpu.generatorMsPerBotSecond ?? NSNull(),
                "generator_cpu_percent": cpu.generatorPercent ?? NSNull(),
                "nodes": Dictionary(uniqueKeysWithValues: (nodes ?? [:]).map { id, node -> (String, [String: Any]) in
                    (id, [
                        "region": node.region, "ticks": node.ticks, "tick_mean_us": node.tickMeanMicroseconds,
                        "tick_max_us": node.tickMaxMicroseconds, "peak_clients": node.peakClients,
                        "peak_active_matches": node.peakActiveMatches, "peak_rss_bytes": node.peakResidentBytes,
                        "peak_actors": node.peakActors, "actors_at_end": node.actorsAtEnd,
                        "cpu_percent": cpu.nodePercent[id] ?? NSNull(),
                    ])
                }),
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// One worker process: runs bots `first ..< first + count` of `players`, prints a JSON
    /// report line every second and a final one.
    struct Worker: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "worker", abstract: "One load-generator process (started by `loadtest run`).", shouldDisplay: false)
        @OptionGroup var options: Options
        @Option var first = 0
        @Option var count = 0

        func validate() throws {
            // A bot's start in the ramp is its number's place in --first-bot ..< --first-bot + --players.
            guard first >= options.firstBot, first + count <= options.firstBot + options.players else {
                throw ValidationError("--first \(first) --count \(count) must lie within --first-bot \(options.firstBot) ..< \(options.firstBot + options.players)")
            }
        }

        func run() async throws {
            var logger = Logger(label: "meridian.loadtest")
            logger.logLevel = ProcessInfo.processInfo.environment["MERIDIAN_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
            let (topology, _) = try Topology.loadOrExplain(options.topology)
            let login = try LoadtestLogin.resolve(options.login, topology: topology)
            let tls = try options.clientTLS()
            let regions = topology.regions.map(\.name)
            let stats = LoadtestStats()
            stats.update { $0.bots = count }
            let setupGate = LoadtestSetupGate(limit: 1000)
            // The run's timeline, as instants on one clock: a load generator runs in real time.
            let clock = ContinuousClock()
            let started = clock.now
            let deadline = started + .milliseconds(Int64((options.ramp + options.duration) * 1000))
            let cancelAt = deadline + .milliseconds(Int64(options.grace * 1000))
            let abandonAt = cancelAt + Self.stopAfterCancel
            let group = MultiThreadedEventLoopGroup.singleton
            let reporter = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    Self.emit(LoadtestWorkerLine(final: false, report: stats.snapshot()))
                }
            }
            let botsRun = Task {
                await withTaskGroup(of: Void.self) { tasks in
                    for index in first..<(first + count) {
                        let location = LoadtestBot.location(of: index, regions: regions)
                        let home = LoadtestBot.homeRegion(of: index, regions: regions)
                        let bot = LoadtestBot(
                            index: index, topology: topology, location: location, homeRegion: home,
                            sourceAddress: LoadtestBot.sourceAddress(index), idle: options.idle, login: login, tls: tls,
                            maxAckDelay: .milliseconds(options.maxAckDelayMs), deadline: deadline,
                            group: group, stats: stats, setupGate: setupGate, logger: logger
                        )
                        let startAt = started + .milliseconds(Int64(options.ramp * 1000 * Double(index - options.firstBot) / Double(max(1, options.players))))
                        tasks.addTask {
                            try? await clock.sleep(until: startAt)
                            await bot.run()
                        }
                    }
                }
            }
            // A bot waiting for an event that never comes must not keep the run alive: past the
            // deadline plus the grace (time for a running match to end) the rest are cancelled
            // and counted.
            /// The final report, once, whoever gets there first.
            let reportFinal: @Sendable () -> Void = {
                guard let report = stats.finalSnapshot() else { return }
                reporter.cancel()
                Self.emit(LoadtestWorkerLine(final: true, report: report))
            }
            let watchdog = Task {
                try? await clock.sleep(until: cancelAt)
                guard !Task.isCancelled else { return }
                stats.error("still running at the deadline")
                botsRun.cancel()
                // A bot that does not stop when cancelled waits on something that ignores
                // cancellation (a bug to find): the report goes out without it, saying where.
                try? await clock.sleep(until: abandonAt)
                guard !Task.isCancelled else { return }
                for (phase, count) in stats.runningPhases() {
                    stats.error("did not stop when cancelled, while \(phase)", count: count)
                }
                reportFinal()
                Foundation.exit(0)
            }
            await botsRun.value
            watchdog.cancel()
            reportFinal()
        }

        /// How long bots cancelled at the end of the grace have to stop before the worker reports
        /// without them. Cancellation takes milliseconds; this only bounds a bug.
        static let stopAfterCancel: Duration = .seconds(10)

        static func emit(_ line: LoadtestWorkerLine) {
            guard let data = try? JSONEncoder().encode(line) else { return }
            do {
                try FileHandle.standardOutput.write(contentsOf: data + Data("\n".utf8))
            } catch {
                // The parent (`loadtest run` or `meridian local`) is gone: nobody reads the
                // report, so stop (its bots' connections close with the process).
                Foundation.exit(1)
            }
        }
    }
}

extension LoadtestCommand {
    /// Lists the bots of a run: index, player id, home region; with `--show`, each bot's
    /// player as its home region's actor sees it (session, balances, match history), one JSON
    /// object per line — to check after a run that nobody is stuck and every reward was paid once.
    struct Bots: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "bots", abstract: "List the bots' player ids and home regions (--show: their players, as JSON lines).")
        @Option(help: "Topology file (its regions).") var topology: String
        @Option(help: "Number of bots.") var players: Int = 100
        @Flag(help: "Ask every bot's home for its player (needs the cluster secret).") var show = false
        @Option(help: "How the bots logged in (as for run): device or dev. Default: dev where the topology allows it, else device.")
        var login: LoadtestLogin?
        @OptionGroup var secret: SecretOptions

        func run() async throws {
            let (parsed, _) = try Topology.loadOrExplain(topology)
            let login = try LoadtestLogin.resolve(self.login, topology: parsed)
            let regions = parsed.regions.map(\.name)
            let bots = (0..<players).map { (index: $0, home: LoadtestBot.homeRegion(of: $0, regions: regions)) }
            guard show else {
                for bot in bots {
                    let id = login == .dev ? LoadtestBot.playerID(bot.index).uuidString.lowercased() : LoadtestLogin.deviceID(bot.index)
                    print("\(bot.index) \(id) \(bot.home)")
                }
                return
            }
            var logger = Logger(label: "meridian.loadtest")
            logger.logLevel = .warning
            let client = try await StatusClient.start(topology: parsed, secret: try secret.load(), logger: logger)
            let directory = PlayerDirectory(system: client.system, topology: parsed)
            let authority = AuthorityClient(system: client.system, topology: parsed, timeout: .seconds(10), logger: logger)
            var failures = 0
            for bot in bots {
                do {
                    // A device bot's player id and home are the identity layer's; a dev bot's are fixed.
                    var player = LoadtestBot.playerID(bot.index)
                    var home = bot.home
                    if login == .device {
                        let device = LoadtestLogin.deviceID(bot.index)
                        let details = try await authority.call { try await $0.details(device: device) }
                        guard details.found, let id = UUID(uuidString: details.entry.player) else { throw ValidationError("no account for device \(device)") }
                        player = id
                        home = details.entry.homeRegion
                    }
                    let actor = try directory.home(of: player, region: home)
                    let (view, session, matches) = try await ClusterSystem.withCallTimeout(.seconds(10)) {
                        (try await actor.view(), try await actor.currentSession(), try await actor.recentMatches(limit: 1000))
                    }
                    print(PlayerFormat.json(view, session: session, matches: matches, extra: ["bot": bot.index]))
                } catch {
                    failures += 1
                    let object: [String: Any] = ["bot": bot.index, "error": "\(error)"]
                    print(String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self))
                }
            }
            await client.system.shutdown()
            if failures > 0 { throw ExitCode(1) }
        }
    }
}
