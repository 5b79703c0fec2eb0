import MeridianCommandLine
import ArgumentParser
import Foundation
import Logging
import MeridianAdmin
import MeridianCluster
import MeridianTopology
import MeridianTransport
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `meridian local`: the whole cluster of a topology file on this machine, one process per
/// node, with a live table of what it is doing. Ctrl-C stops every process cleanly.
struct LocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local",
        abstract: "Run every node of a local topology as separate processes and show them live."
    )

    @Option(help: "Topology file.")
    var topology: String = "Topology/local.yaml"

    @Option(help: "Stop after this many seconds (default: run until Ctrl-C).")
    var duration: Double?

    @Option(help: "Directory for node logs.")
    var logDirectory: String = "data/logs"

    @Option(help: "Simulated players (bots in a `meridian loadtest worker` process); 0 for none.")
    var bots: Int = 300

    @Option(help: "Catalog published at start when the cluster serves none yet (match rules, items).")
    var catalog: String = "Topology/catalogs/example.yaml"

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        var logger = logging.bootstrap()
        logger.logLevel = .warning
        let path = URL(fileURLWithPath: topology).standardizedFileURL.path
        let (parsed, _) = try Topology.loadOrExplain(path)
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        // Other terminals (`meridian status --secret-file …`, the admin commands) need this run's
        // secret and operator token; the web console link carries the token.
        let credentials = try LocalRunCredentials.create(in: "\(logDirectory)/..", operatorName: "local-operator")
        let service = LocalClusterService(
            topology: parsed,
            topologyPath: path,
            credentials: credentials,
            consoleLink: parsed.nodes.first?.metrics.map { "http://\($0)/#token=\(credentials.adminToken)" },
            logDirectory: logDirectory,
            duration: duration,
            bots: bots,
            catalogPath: catalog,
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}

/// Starts the node processes, redraws the live table every second, and stops the processes
/// (SIGTERM, then SIGKILL after 10 s) on graceful shutdown.
struct LocalClusterService: Service {
    let topology: Topology
    let topologyPath: String
    let credentials: LocalRunCredentials
    let consoleLink: String?
    let logDirectory: String
    let duration: Double?
    let bots: Int
    let catalogPath: String
    let logger: Logger

    func run() async throws {
        let supervisor = NodeSupervisor(executable: currentExecutablePath(), logDirectory: logDirectory)
        // The catalog publish at start acts as this run's operator, with its token file.
        let environment = credentials.nodeEnvironment(nodeCount: topology.nodes.count)
        for node in topology.nodes {
            try supervisor.start(node: node.id, arguments: ["bootstrap", "--topology", topologyPath, "--node", node.id, "--audit-log", "\(logDirectory)/\(node.id).audit.log"], environment: environment)
        }
        let client = try await StatusClient.start(topology: topology, secret: credentials.clientSecret, logger: logger)
        let started = ContinuousClock.now
        let simulation = Mutex<LoadtestWorkerProcess?>(nil)
        let nodeEnvironment = environment
        await cancelWhenGracefulShutdown {
            var previous: LocalClusterView?
            var setUp = false
            while !Task.isCancelled {
                let view = await LocalClusterView.collect(
                    client: client, supervisor: supervisor, since: started, previous: previous,
                    bots: simulation.withLock { $0 }?.latest?.report
                )
                previous = view
                FileHandle.standardOutput.write(Data(view.render(ansi: isatty(STDOUT_FILENO) != 0, console: consoleLink).utf8))
                // Once every node is up: publish the catalog (if none is served yet), start the bots.
                if !setUp, view.members.filter({ $0.state == "up" }).count == topology.nodes.count {
                    setUp = true
                    if (view.catalogVersions.values.max() ?? 0) == 0 { publishCatalog(environment: nodeEnvironment) }
                    if bots > 0 {
                        let worker = try? LoadtestWorkerProcess(
                            executable: currentExecutablePath(), topology: topologyPath, players: bots,
                            ramp: 20, duration: 365 * 24 * 3600, idle: false, first: 0, count: bots,
                            login: .device  // real guest accounts, as a game's first launch makes them
                        )
                        simulation.withLock { $0 = worker }
                    }
                }
                if let duration, ContinuousClock.now - started > .milliseconds(Int(duration * 1000)) { break }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        if let bots = simulation.withLock({ $0 }) {
            print("\nstopping the simulated players…")
            bots.terminate()
            await bots.waitForOutput()
        }
        print("\nstopping \(topology.nodes.count) nodes…")
        await client.system.shutdown()
        await supervisor.stopAll(grace: .seconds(10))
        print("all nodes stopped; logs in \(logDirectory)/")
    }

    /// `meridian catalog publish` in a child process (its output goes to the log directory).
    private func publishCatalog(environment: [String: String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: currentExecutablePath())
        process.arguments = ["catalog", "publish", "--topology", topologyPath, catalogPath]
        process.environment = environment
        let log = "\(logDirectory)/catalog-publish.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        if let handle = FileHandle(forWritingAtPath: log) {
            process.standardOutput = handle
            process.standardError = handle
        }
        try? process.run()
    }
}
