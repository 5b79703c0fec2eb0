import MeridianCommandLine
import ArgumentParser
import Foundation
import Logging
import Distributed
import MeridianCluster
import MeridianGame
import MeridianTopology
import MeridianTransport
import MeridianNode
import MeridianWire

/// `meridian status`: asks any reachable node of the topology for its member table.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print every member of the cluster as seen by the first node that answers."
    )

    @Option(help: "Topology file of the cluster to ask.")
    var topology: String

    @Flag(help: "Print a JSON array: node, region, address, state, incarnation, topology_version, last_seen_ms.")
    var json = false

    @Option(help: "Seconds to wait for each node before trying the next.")
    var timeout: Double = 2

    @OptionGroup var secret: SecretOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        var logger = logging.bootstrap()
        logger.logLevel = .warning
        let (parsed, _) = try Topology.loadOrExplain(topology)
        let client = try await StatusClient.start(topology: parsed, secret: try secret.load(), logger: logger)
        defer { Task { await client.system.shutdown() } }
        guard let (node, members) = await client.firstAnswer(timeout: Duration.milliseconds(Int(timeout * 1000))) else {
            FileHandle.standardError.write(Data("no node of \(topology) answered (tried \(parsed.nodes.map(\.id).joined(separator: ", ")))\n".utf8))
            await client.system.shutdown()
            throw ExitCode(2)
        }
        let live = members.filter { !["down", "removed"].contains($0.state) }.map(\.node)
        let versions = await client.topologyVersions(of: live, timeout: Duration.milliseconds(Int(timeout * 1000))).mapValues { Int($0.version) }
        if json {
            print(StatusFormat.json(members, topologyVersions: versions))
        } else {
            print("members as seen by \(node):")
            print(StatusFormat.table(members, topologyVersions: versions))
        }
        await client.system.shutdown()
    }
}

/// A non-member actor system that queries nodes' ``NodeStatusActor``s.
struct StatusClient {
    let system: ClusterSystem
    let topology: Topology

    /// With `$MERIDIAN_CLUSTER_TLS_*` set, the client speaks mutual TLS to the nodes as the
    /// node id its certificate names (e.g. `admin-ops`); otherwise it is `status-<pid>`.
    static func start(topology: Topology, secret: ClusterSecret, logger: Logger) async throws -> StatusClient {
        let tls = try ClusterTLSFiles.load()
        var configuration = ClusterSystem.Configuration(
            cluster: topology.cluster,
            node: tls?.node ?? "status-\(ProcessInfo.processInfo.processIdentifier)",
            region: "admin",
            secret: secret
        )
        configuration.transport.tls = tls
        configuration.joinsCluster = false
        configuration.knownAddresses = Dictionary(uniqueKeysWithValues: topology.nodes.map { ($0.id, $0.cluster.description) })
        let system = try await ClusterSystem.start(configuration, logger: logger)
        return StatusClient(system: system, topology: topology)
    }

    /// Runs `body` with a started client and shuts it down afterwards, also when `body` throws.
    static func with<T>(topology: Topology, secret: ClusterSecret, logger: Logger, _ body: (StatusClient) async throws -> T) async throws -> T {
        let client = try await start(topology: topology, secret: secret, logger: logger)
        do {
            let result = try await body(client)
            await client.system.shutdown()
            return result
        } catch {
            await client.system.shutdown()
            throw error
        }
    }

    /// The member table of `node`, or nil when it does not answer within `timeout`.
    func members(of node: String, timeout: Duration) async -> [MemberSnapshot]? {
        let id = ClusterActorID(node: node, incarnation: 0, path: NodeStatusActor.path)
        guard let actor = try? NodeStatusActor.resolve(id: id, using: system) else { return nil }
        return try? await ClusterSystem.withCallTimeout(timeout) { try await actor.members() }
    }

    /// Every answering node's game figures (``GameFront/nodeStats()``), asked in parallel.
    func gameStats(timeout: Duration) async -> [String: GameNodeStats] {
        await system.askEach(topology.nodes.map(\.id), at: GameFront.path, as: GameFront.self, timeout: timeout) { try await $0.nodeStats() }
    }

    /// The topology version (and agent state) of each of `nodes` that answers, asked in parallel.
    func topologyVersions(of nodes: [String], timeout: Duration) async -> [String: Meridian_Topology_V1_Current] {
        await system.askEach(nodes, at: TopologyAgent.path, as: TopologyAgent.self, timeout: timeout) { try await $0.current() }
    }

    /// The member table of every node of `nodes` that answers, asked in parallel.
    func members(of nodes: [String], timeout: Duration) async -> [String: [MemberSnapshot]] {
        await system.askEach(nodes, at: NodeStatusActor.path, as: NodeStatusActor.self, timeout: timeout) { try await $0.members() }
    }

    /// The member table of the first node of the topology that answers. The client can then
    /// reach every member, also one added since its topology file was written.
    func firstAnswer(timeout: Duration) async -> (String, [MemberSnapshot])? {
        for node in topology.nodes {
            if let members = await members(of: node.id, timeout: timeout) {
                system.membership.learnAddresses(Dictionary(members.map { ($0.node, $0.address) }, uniquingKeysWith: { first, _ in first }))
                return (node.id, members)
            }
        }
        return nil
    }
}

enum StatusFormat {
    /// `topologyVersions`: the topology version each node runs, for those that answered.
    static func table(_ members: [MemberSnapshot], topologyVersions: [String: Int] = [:]) -> String {
        var rows = [["NODE", "REGION", "ADDRESS", "STATE", "INCARNATION", "TOPOLOGY", "LAST SEEN"]]
        for member in members {
            rows.append([
                member.node, member.region, member.address, member.state, "\(member.incarnation)",
                topologyVersions[member.node].map { "v\($0)" } ?? "-", member.lastSeenMillisecondsAgo.map { "\($0) ms ago" } ?? "-",
            ])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func json(_ members: [MemberSnapshot], topologyVersions: [String: Int] = [:]) -> String {
        let objects: [[String: Any]] = members.map { member in
            var object: [String: Any] = [
                "node": member.node,
                "region": member.region,
                "address": member.address,
                "state": member.state,
                "incarnation": member.incarnation,
            ]
            object["last_seen_ms"] = member.lastSeenMillisecondsAgo ?? NSNull()
            object["topology_version"] = topologyVersions[member.node] ?? NSNull()
            return object
        }
        let data = (try? JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
