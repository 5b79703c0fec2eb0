import ArgumentParser
import Foundation
import Logging
import MeridianAdmin
import MeridianCatalog
import MeridianChaos
import MeridianCommandLine
import MeridianCluster
import MeridianNode
import MeridianTopology
import MeridianTransport
import MeridianWire

/// The cluster a chaos run works on: six `meridian bootstrap` processes in three regions (two
/// nodes each, links emulated on loopback), the operator's token, a non-member client, and the
/// load-test bots. Written from scratch into the run's directory every time.
struct ChaosCluster: Sendable {
    static let regions = ["eu-west", "us-east", "ap-south"]
    static let nodesPerRegion = 2

    let directory: String
    let topologyPath: String
    let topology: Topology
    let supervisor: NodeSupervisor
    let client: StatusClient
    let adminToken: String
    let catalogTemplate: String
    let bots: LoadtestWorkerProcess?
    let botCount: Int

    /// The nodes, in the order of the topology.
    var nodes: [ChaosSchedule.Node] { topology.nodes.map { ChaosSchedule.Node(id: $0.id, region: $0.region) } }

    static func start(directory: String, postgres: Bool, bots: Int, logger: Logger, progress: ChaosProgress) async throws -> ChaosCluster {
        let directory = URL(fileURLWithPath: directory).standardizedFileURL.path
        try prepare(directory: directory)
        let storage = try Dictionary(uniqueKeysWithValues: regions.map { region in
            (region, try storageURL(region: region, directory: directory, postgres: postgres))
        })
        let ports = try await freeTCPPorts(regions.count * nodesPerRegion * 2)
        let topologyPath = "\(directory)/topology.yaml"
        try topologyYAML(storage: storage, ports: ports).write(toFile: topologyPath, atomically: true, encoding: .utf8)
        let (topology, _) = try Topology.loadOrExplain(topologyPath)

        let credentials = try LocalRunCredentials.create(in: directory, operatorName: "chaos-operator")
        let supervisor = NodeSupervisor(executable: currentExecutablePath(), logDirectory: directory)
        var environment = credentials.nodeEnvironment(nodeCount: topology.nodes.count)
        environment["MERIDIAN_LOG_LEVEL"] = environment["MERIDIAN_LOG_LEVEL"] ?? "notice"
        // Each node's catalog copy and adopted topology (`<node>.catalog`, `<node>.topology.yaml`)
        // belong to this run: on PostgreSQL they would otherwise land in `./data` and carry one
        // run's catalog versions into the next.
        environment["MERIDIAN_DATA_DIR"] = "\(directory)/data"
        for node in topology.nodes {
            try supervisor.start(
                node: node.id,
                arguments: ["bootstrap", "--topology", topologyPath, "--node", node.id, "--audit-log", "\(directory)/\(node.id).audit.log"],
                environment: environment
            )
        }
        progress.say("started \(topology.nodes.count) nodes; logs in \(directory)/")
        let client = try await StatusClient.start(topology: topology, secret: credentials.clientSecret, logger: logger)
        let template = try String(contentsOfFile: "\(directory)/catalog.yaml", encoding: .utf8)
        var cluster = ChaosCluster(
            directory: directory, topologyPath: topologyPath, topology: topology, supervisor: supervisor, client: client,
            adminToken: credentials.adminToken, catalogTemplate: template, bots: nil, botCount: bots
        )
        do {
            try await cluster.waitUntilEveryNodeIsUp(within: .seconds(120))
            progress.say("every node is up")
            _ = try await cluster.publishCatalog(round: 0, timeout: .seconds(60))
            if bots > 0 {
                cluster = ChaosCluster(
                    directory: directory, topologyPath: topologyPath, topology: topology, supervisor: supervisor, client: client,
                    adminToken: credentials.adminToken, catalogTemplate: template,
                    bots: try LoadtestWorkerProcess(
                        // Ten device logins a second at most: each creates an account and signs tokens at the identity authority.
                        executable: currentExecutablePath(), topology: topologyPath, players: bots, ramp: max(5, Double(bots) / 10),
                        duration: 365 * 24 * 3600, idle: false, first: 0, count: bots, login: .device
                    ),
                    botCount: bots
                )
            }
        } catch {
            await cluster.stop()
            throw error
        }
        return cluster
    }

    func stop() async {
        if let bots {
            bots.terminate()
            await bots.waitForOutput()
        }
        await client.system.shutdown()
        await supervisor.stopAll(grace: .seconds(30))
    }

    // MARK: - Asking the cluster

    /// Every node's member table, of the nodes that answer.
    func memberTables(timeout: Duration = .seconds(2)) async -> [String: [MemberSnapshot]] {
        await client.members(of: topology.nodes.map(\.id), timeout: timeout)
    }

    /// Nodes not seen `up` by every node of the cluster (empty: the membership has converged).
    func nodesNotUpEverywhere() async -> [String] {
        let tables = await memberTables()
        return topology.nodes.map(\.id).filter { node in
            topology.nodes.contains { observer in
                !(tables[observer.id]?.contains { $0.node == node && $0.state == "up" } ?? false)
            }
        }
    }

    func waitUntilEveryNodeIsUp(within limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if await nodesNotUpEverywhere().isEmpty { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw ChaosClusterError("the cluster did not come up within \(limit): not up everywhere: \(await nodesNotUpEverywhere().joined(separator: ", ")); see the logs in \(directory)/")
    }

    /// An up node's admin gate, the nodes of `preferring` region first.
    func gate(preferring region: String? = nil) async throws -> AdminGate {
        let tables = await memberTables(timeout: .seconds(1))
        let up = Set(tables.values.flatMap { $0.filter { $0.state == "up" }.map(\.node) })
        let candidates = topology.nodes.filter { up.contains($0.id) }.sorted { ($0.region == region ? 0 : 1, $0.id) < ($1.region == region ? 0 : 1, $1.id) }
        guard let node = candidates.first else { throw ChaosClusterError("no node is up") }
        return try AdminGate.resolve(id: ClusterActorID(node: node.id, incarnation: 0, path: AdminGate.path), using: client.system)
    }

    /// Publishes the catalog with `round` in its message of the day (each publish is a new version).
    func publishCatalog(round: Int, timeout: Duration) async throws -> UInt64 {
        let text = catalogTemplate.replacingOccurrences(of: "motd: \"chaos round 0\"", with: "motd: \"chaos round \(round)\"")
        let content = try CatalogLoader.parse(yaml: text, file: "chaos catalog round \(round)")
        let request = CatalogAdmin.request(content, source: "meridian chaos round \(round)")
        let gate = try await gate(preferring: topology.catalogPrimary)
        let reply = try await ClusterSystem.withCallTimeout(timeout + .seconds(5)) {
            try await gate.publishCatalog(token: adminToken, request: request, timeoutMilliseconds: Int64(timeout / .milliseconds(1)))
        }
        return reply.version
    }

    // MARK: - Setting up the directory

    /// Empties `directory`, which must be new, empty, or one a chaos run made (it holds the marker).
    private static func prepare(directory: String) throws {
        let files = FileManager.default
        let marker = "\(directory)/.meridian-chaos"
        if files.fileExists(atPath: directory) {
            let contents = try files.contentsOfDirectory(atPath: directory)
            guard contents.isEmpty || files.fileExists(atPath: marker) else {
                throw ValidationError("\(directory) holds files that no chaos run made; give --directory a new or empty directory")
            }
            for name in contents { try files.removeItem(atPath: "\(directory)/\(name)") }
        }
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = files.createFile(atPath: marker, contents: nil)
        try catalogYAML.write(toFile: "\(directory)/catalog.yaml", atomically: true, encoding: .utf8)
    }

    private static func storageURL(region: String, directory: String, postgres: Bool) throws -> String {
        guard postgres else { return "sqlite:\(directory)/\(region)" }
        let variable = "MERIDIAN_TEST_POSTGRES_\(region.uppercased().replacingOccurrences(of: "-", with: "_"))_URL"
        guard let url = ProcessInfo.processInfo.environment[variable] else {
            throw ValidationError("--postgres needs $\(variable) (run through scripts/chaos --postgres, which starts PostgreSQL)")
        }
        return url
    }

    private static func topologyYAML(storage: [String: String], ports: [Int]) -> String {
        var nodes: [String] = []
        var seeds: [String] = []
        var next = ports.makeIterator()
        for region in regions {
            for index in 1...nodesPerRegion {
                let id = "\(region)-\(index)"
                if index == 1 { seeds.append(id) }
                nodes.append("  - { id: \(id), region: \(region), cluster: \"127.0.0.1:\(next.next()!)\", gateway: \"127.0.0.1:\(next.next()!)\" }")
            }
        }
        return """
            # Written by meridian chaos. Three regions on loopback, links emulated (latency_ms).
            cluster: meridian-chaos
            version: 1
            regions:
            \(regions.map { "  \($0): { shards: 4, storage: \"\(storage[$0]!)\" }" }.joined(separator: "\n"))
            latency_ms:
              eu-west/us-east: 40
              eu-west/ap-south: 70
              us-east/ap-south: 110
            catalog_primary: eu-west
            identity_authority: eu-west
            dev_login: true
            seeds: [\(seeds.joined(separator: ", "))]
            nodes:
            \(nodes.joined(separator: "\n"))

            """
    }

    /// Short matches (many results per minute), gold to trade, gems to grant and consume.
    private static let catalogYAML = """
        # Written by meridian chaos; each publish changes the motd.
        items:
          - { id: gold, name: Gold, category: currency, tradeable: true }
          - { id: gems, name: Gems, category: currency }
        config:
          match_tick_hz: 10
          match_min_players: 2
          match_max_players: 4
          match_lobby_wait_s: 1
          match_countdown_s: 1
          match_time_limit_s: 15
          match_reward_item: gold
          match_reward_play: 10
          match_reward_win: 100
          matchmaking_overflow_after_s: 5
          motd: "chaos round 0"

        """
}

struct ChaosClusterError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
