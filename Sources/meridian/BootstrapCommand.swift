import MeridianCommandLine
import ArgumentParser
import Foundation
import Logging
import MeridianAdmin
import MeridianCluster
import MeridianGateway
import MeridianIdentity
import MeridianNode
import MeridianTopology
import MeridianTransport
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

    @Option(help: "host:port to serve the admin HTTP on (/metrics, /healthz, /readyz, /api/v1, the web console). Default: the node's metrics: address in the topology; none, no admin HTTP.")
    var metrics: String?

    @Option(help: "File of the admin tokens this node accepts (`name role sha256` per line; make one with `meridian admin token`). Default: $MERIDIAN_ADMIN_TOKENS_FILE; none, only /healthz and /readyz answer.")
    var adminTokens: String?

    @Option(help: "File to append the audit log of admin actions to (JSON lines). Default: $MERIDIAN_AUDIT_LOG; none, the node's log only.")
    var auditLog: String?

    @Option(help: "Seconds an idle player's actor stays in memory with no call and nobody connected; the next call loads the player again.")
    var passivatePlayersAfter: Double = 600

    @Option(help: "YAML file of the platforms whose login tickets this cluster accepts (platform, issuer, audience, jwks_file); read on the identity authority's node.")
    var platformTickets: String?

    @Option(help: "What the node does when it learns the cluster declared it down (it was paused or cut off longer than the failure detector allows): rejoin (start again in this process as a new incarnation) or exit (with status 75, for a supervisor to start it again).")
    var whenDeclaredDown: DeclaredDownAction = .rejoin

    /// ``BootstrapCommand/whenDeclaredDown``.
    enum DeclaredDownAction: String, ExpressibleByArgument, CaseIterable {
        case rejoin, exit
    }

    @OptionGroup var secret: SecretOptions
    @OptionGroup var tls: NodeTLSOptions
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
        let clusterTLS = try tls.cluster()
        let gatewayTLS = try tls.gateway()
        var configuration: ClusterSystem.Configuration
        let cluster: Topology
        if let topology {
            let (parsed, yaml) = try Topology.loadOrExplain(topology)
            // A version applied while the node ran (`meridian topology apply`) is newer than the
            // file it is started with: run that one.
            let nodeID = self.node
            let kept = try parsed.node(id: nodeID).map { started in
                try AppliedTopologyFile(directory: parsed.dataDirectory(region: started.region), node: nodeID).load(cluster: parsed.cluster)
            } ?? nil
            let chosen = AppliedTopologyFile.newer(LiveTopology.Version(topology: parsed, yaml: yaml), kept)
            if chosen.topology.version > parsed.version {
                logger.notice("running the topology version applied since this file was written", metadata: [
                    "meridian.topology.version": "\(chosen.topology.version)", "meridian.topology.file_version": "\(parsed.version)",
                ])
            }
            configuration = try chosen.topology.clusterConfiguration(node: nodeID, yaml: chosen.yaml, secret: secret)
            cluster = chosen.topology
        } else {
            (configuration, cluster) = try await joinConfiguration(secret: secret, tls: clusterTLS, logger: logger)
        }
        configuration.transport.tls = clusterTLS
        var node = NodeConfiguration(cluster: configuration, topology: cluster)
        node.gateway?.tls = gatewayTLS
        node.adminAddress = metrics.flatMap(HostPort.init(parsing:)) ?? cluster.node(id: configuration.node)?.metrics
        if let file = flagOrEnvironment(adminTokens, "MERIDIAN_ADMIN_TOKENS_FILE") {
            do {
                node.adminTokens = try AdminTokens.load(path: file)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        node.auditLogPath = flagOrEnvironment(auditLog, "MERIDIAN_AUDIT_LOG")
        node.passivatePlayersAfter = .milliseconds(Int64(passivatePlayersAfter * 1000))
        // Read before the node starts: a mistake in the file is the operator's to fix now.
        if let platformTickets { node.identity.platforms = try await PlatformTicketsFile.load(platformTickets) }
        var rejoins = 0
        while true {
            let meridianNode = MeridianNode(configuration: node, logger: logger, gracefulShutdownSignals: [.sigterm, .sigint])
            try await meridianNode.run()
            guard meridianNode.wasDeclaredDown else { return }
            // Parts of the old incarnation still run (and may hold its ports): only a new
            // process can start the node again.
            if meridianNode.stopWasStuck { throw ExitCode(MeridianNode.declaredDownExitCode) }
            // Declared down by the cluster (a pause or a cut-off longer than the failure
            // detector allows): the others already took over what this incarnation ran, and
            // it stopped serving. Either start again in this process as a new incarnation,
            // which joins like any restarted node, or exit for the supervisor to do it.
            switch whenDeclaredDown {
            case .exit:
                throw ExitCode(MeridianNode.declaredDownExitCode)
            case .rejoin:
                rejoins += 1
                node.cluster.incarnation = Self.nextIncarnation(after: node.cluster.incarnation)
                logger.notice("rejoining the cluster as a new incarnation", metadata: [
                    "meridian.incarnation": "\(node.cluster.incarnation)", "meridian.rejoins": "\(rejoins)",
                ])
            }
        }
    }

    /// A new incarnation number: the wall clock's microseconds, as a fresh process would take,
    /// and always above the one before (a clock stepped back must not reuse a number).
    static func nextIncarnation(after previous: UInt64) -> UInt64 {
        max(UInt64(Date().timeIntervalSince1970 * 1_000_000), previous + 1)
    }

    /// `--seed`: fetch the topology from the seed, then run as the node it describes, or,
    /// when the node is new to the topology, as an extra node of `--region`.
    private func joinConfiguration(secret: ClusterSecret, tls: ClusterTLS?, logger: Logger) async throws -> (ClusterSystem.Configuration, Topology) {
        guard let seed, let region, let listen, let listenAddress = HostPort(parsing: listen) else {
            throw ValidationError("--listen must be host:port")
        }
        var probe = ClusterSystem.Configuration(cluster: cluster, node: node, region: region, secret: secret)
        probe.bindHost = listenAddress.host
        probe.joinsCluster = false
        probe.transport.tls = tls
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
