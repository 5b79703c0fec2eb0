import MeridianCommandLine
import ArgumentParser
import Foundation
import Logging
import MeridianCatalog
import MeridianCluster
import MeridianGame
import MeridianGateway
import MeridianIdentity
import MeridianObservability
import MeridianRegion
import MeridianTopology
import MeridianTransport
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `meridian bootstrap`: runs one node in the foreground until SIGTERM/SIGINT, then leaves
/// the cluster gracefully.
struct BootstrapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bootstrap",
        abstract: "Run one node: from a topology file, or joining a running cluster through a seed.",
        discussion: """
            meridian bootstrap --topology Topology/local.yaml --node eu-west-1
            meridian bootstrap --seed 127.0.0.1:7401 --node eu-west-3 --region eu-west --listen 127.0.0.1:7403
            """
    )

    @Option(help: "Topology file; the node's addresses, seeds and latency come from it.")
    var topology: String?

    @Option(help: "This node's id.")
    var node: String

    @Option(help: "host:port of any running node; the topology is fetched from it.")
    var seed: String?

    @Option(help: "With --seed: this node's region.")
    var region: String?

    @Option(help: "With --seed: host:port to listen on for cluster traffic.")
    var listen: String?

    @Option(help: "With --seed: the cluster's name. Default: $MERIDIAN_CLUSTER or meridian-local.")
    var cluster: String = ProcessInfo.processInfo.environment["MERIDIAN_CLUSTER"] ?? "meridian-local"

    @Option(help: "host:port to serve Prometheus metrics on (GET /metrics). Default: the node's metrics: address in the topology; none, no metrics.")
    var metrics: String?

    @Option(help: "Seconds an idle player's actor stays in memory with no call and nobody connected; the next call loads the player again.")
    var passivatePlayersAfter: Double = 600

    @Option(help: "YAML file of the platforms whose login tickets this cluster accepts (platform, issuer, audience, jwks_file); read on the identity authority's node.")
    var platformTickets: String?

    @OptionGroup var secret: SecretOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if !(passivatePlayersAfter > 0) { throw ValidationError("--passivate-players-after must be a positive number of seconds") }
        if topology == nil && seed == nil { throw ValidationError("give --topology FILE, or --seed HOST:PORT with --region and --listen") }
        if topology != nil && seed != nil { throw ValidationError("give either --topology or --seed, not both") }
        if seed != nil && (region == nil || listen == nil) { throw ValidationError("--seed needs --region and --listen") }
        if let metrics, HostPort(parsing: metrics) == nil { throw ValidationError("--metrics must be host:port, e.g. 127.0.0.1:9401") }
    }

    func run() async throws {
        let logger = logging.bootstrap()
        let secret = try self.secret.load()
        let configuration: ClusterSystem.Configuration
        let cluster: Topology
        if let topology {
            let (parsed, yaml) = try Topology.loadOrExplain(topology)
            configuration = try parsed.clusterConfiguration(node: node, yaml: yaml, secret: secret)
            cluster = parsed
        } else {
            (configuration, cluster) = try await joinConfiguration(secret: secret, logger: logger)
        }
        let metricsAddress = metrics.flatMap(HostPort.init(parsing:)) ?? cluster.node(id: configuration.node)?.metrics
        // Read before the node starts: a mistake in the file is the operator's to fix now.
        var platforms: [any PlatformTicketVerifier] = []
        if let platformTickets { platforms = try await PlatformTicketsFile.load(platformTickets) }
        let service = ClusterNodeService(
            configuration: configuration, topology: cluster, metricsAddress: metricsAddress,
            passivatePlayersAfter: .milliseconds(Int64(passivatePlayersAfter * 1000)), platforms: platforms, logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)], gracefulShutdownSignals: [.sigterm, .sigint], logger: service.logger)
        )
        try await group.run()
        if service.outcome.wasDeclaredDown { throw ExitCode(ClusterNodeService.declaredDownExitCode) }
    }

    /// `--seed`: fetch the topology from the seed, then run as the node it describes, or,
    /// when the node is new to the topology, as an extra node of `--region`.
    private func joinConfiguration(secret: ClusterSecret, logger: Logger) async throws -> (ClusterSystem.Configuration, Topology) {
        guard let seed, let region, let listen, let listenAddress = HostPort(parsing: listen) else {
            throw ValidationError("--listen must be host:port")
        }
        var probe = ClusterSystem.Configuration(cluster: cluster, node: node, region: region, secret: secret)
        probe.bindHost = listenAddress.host
        probe.joinsCluster = false
        let fetcher = try await ClusterSystem.start(probe, logger: logger)
        let yaml: String
        do {
            yaml = try await fetcher.fetchTopology(from: seed)
        } catch {
            await fetcher.shutdown()
            throw error
        }
        await fetcher.shutdown()
        let topology = try TopologyLoader.parse(yaml: yaml, file: "topology from \(seed)")
        logger.info("received topology", metadata: ["meridian.topology.version": "\(topology.version)", "meridian.seed": "\(seed)"])
        if topology.node(id: node) != nil {
            return (try topology.clusterConfiguration(node: node, yaml: yaml, secret: secret), topology)
        }
        guard topology.region(named: region) != nil else {
            throw ValidationError("region '\(region)' is not in the cluster's topology (regions: \(topology.regions.map(\.name).joined(separator: ", ")))")
        }
        var configuration = ClusterSystem.Configuration(cluster: topology.cluster, node: node, region: region, secret: secret)
        configuration.bindHost = listenAddress.host
        configuration.bindPort = listenAddress.port
        configuration.advertisedAddress = listenAddress.description
        configuration.seeds = [seed] + topology.seeds.compactMap { topology.node(id: $0)?.cluster.description }
        configuration.knownAddresses = Dictionary(uniqueKeysWithValues: topology.nodes.map { ($0.id, $0.cluster.description) })
        configuration.topologyVersion = UInt64(topology.version)
        configuration.topologyYAML = yaml
        let latency = topology.latency
        configuration.oneWayLatency = { latency.oneWay(from: $0, to: $1) }
        configuration.emulateLatency = topology.isLocal
        return (configuration, topology)
    }
}

/// One cluster node as a ServiceLifecycle service: starts, runs until graceful shutdown is
/// requested, then leaves the cluster — or until the cluster declared this node down (a pause
/// longer than the failure detector's bound: the others already took over its shards and
/// players), then stops at once and `meridian bootstrap` exits with ``declaredDownExitCode``,
/// so that its supervisor (systemd's `Restart=on-failure`, `meridian local`) starts it again as
/// a new incarnation, which joins like any restarted node.
struct ClusterNodeService: Service {
    /// EX_TEMPFAIL: the node stopped because the cluster declared it down; start it again.
    static let declaredDownExitCode: Int32 = 75

    /// How the service ended, for the command's exit status.
    final class Outcome: Sendable {
        private let declaredDown = Mutex(false)
        var wasDeclaredDown: Bool { declaredDown.withLock { $0 } }
        func setDeclaredDown() { declaredDown.withLock { $0 = true } }
    }

    let outcome = Outcome()
    let configuration: ClusterSystem.Configuration
    let topology: Topology
    /// Where to serve `GET /metrics`; nil: the node exports no metrics.
    let metricsAddress: HostPort?
    /// How long an idle player's actor stays in memory unused.
    let passivatePlayersAfter: Duration
    /// The platforms whose login tickets the identity authority accepts.
    let platforms: [any PlatformTicketVerifier]
    /// Carries `meridian.node` and `meridian.region`, for every subsystem of the node.
    let logger: Logger

    init(
        configuration: ClusterSystem.Configuration, topology: Topology, metricsAddress: HostPort?, passivatePlayersAfter: Duration,
        platforms: [any PlatformTicketVerifier] = [], logger: Logger
    ) {
        var logger = logger
        logger[metadataKey: "meridian.node"] = "\(configuration.node)"
        logger[metadataKey: "meridian.region"] = "\(configuration.region)"
        self.configuration = configuration
        self.topology = topology
        self.metricsAddress = metricsAddress
        self.passivatePlayersAfter = passivatePlayersAfter
        self.platforms = platforms
        self.logger = logger
    }

    func run() async throws {
        // First, before any subsystem makes its metrics: a metric keeps the factory it was made with.
        let metricsServer = try await startMetrics()
        let system = try await ClusterSystem.start(configuration, logger: logger)
        // This node's share of its region's data: store, ledger writer, player actors, trades.
        let region = try await RegionServices.start(system: system, topology: topology, passivatePlayersAfter: passivatePlayersAfter, logger: logger)
        // The node's catalog replica: serves its persisted version at once, then keeps up with the leader.
        let catalog = try await CatalogNode.start(system: system, configuration: try .node(of: system), logger: logger)
        // The identity layer: the key set and directory cache, and the authority on its node.
        var identityConfiguration = IdentityConfiguration.node(of: topology)
        identityConfiguration.platforms = platforms
        let identity = try await IdentityNode.start(
            system: system, topology: topology, store: region.store, configuration: identityConfiguration,
            playerBusy: { [weak region] player in region?.activity(of: player) }, logger: logger
        )
        region.setHomeLookup { [weak identity] player in try? await identity?.homeRegion(of: player) }
        // Shards, matches, the region's matchmaker when placed here, session watching.
        let game = try GameServices.start(system: system, topology: topology, regionServices: region, catalog: catalog.local, logger: logger)
        // The client-facing endpoint on the node's `gateway:` address (when the topology names this node).
        var gateway: GatewayServer?
        if let address = topology.node(id: system.nodeID)?.gateway {
            gateway = try await GatewayServer.start(
                host: address.host, port: address.port, system: system, game: game, identity: identity, topology: topology,
                catalog: catalog.local, logger: logger
            )
        }
        if await Self.declaredDownBeforeShutdown(system) {
            // The others already took over this incarnation's shards and players: nothing to hand
            // over, and its matches' players were told `server_lost`. Stop serving at once.
            outcome.setDeclaredDown()
            logger.error("this node was declared down by the cluster (a pause or a cut-off longer than the failure detector allows); stopping so that its supervisor starts it again as a new incarnation", metadata: [
                "meridian.exit_code": "\(Self.declaredDownExitCode)",
            ])
            await gateway?.shutdown()
            await game.shutdown(drainTimeout: .zero)
            await identity.stop()
            await catalog.stop()
            await system.shutdown()
            await region.shutdown()
            await metricsServer?.shutdown()
            return
        }
        await gateway?.shutdown()
        // Leaving on purpose: shards hand over at match boundaries (running matches finish first).
        await game.shutdown()
        await identity.stop()
        await catalog.stop()
        await system.shutdown()
        await region.shutdown()
        await metricsServer?.shutdown()
    }

    /// Waits for a graceful shutdown request (false) or for the cluster declaring this node down (true).
    private static func declaredDownBeforeShutdown(_ system: ClusterSystem) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await gracefulShutdown()
                return false
            }
            group.addTask { await system.membership.declaredDown() }
            // The first to finish decides.
            let declaredDown = await group.next() ?? false
            group.cancelAll()
            return declaredDown
        }
    }

    /// Makes Prometheus the process's metrics factory and serves it, when the node has a metrics address.
    private func startMetrics() async throws -> MetricsServer? {
        guard let metricsAddress else { return nil }
        let registry = MeridianMetrics.bootstrap(logger: logger)
        return try await MetricsServer.start(.init(host: metricsAddress.host, port: metricsAddress.port), registry: registry, logger: logger)
    }
}
