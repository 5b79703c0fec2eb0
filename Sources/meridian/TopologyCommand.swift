import MeridianCommandLine
import ArgumentParser
import Foundation
import MeridianTopology
import MeridianCluster
import MeridianNode
import MeridianWire
import Logging

/// `meridian topology validate|diff|apply|show`.
struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Validate and compare topology files; apply one to a running cluster; show the version each node runs.",
        subcommands: [Validate.self, Diff.self, Apply.self, Show.self]
    )

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a topology file; print every problem with file:line. Exit 1 if any.")

        @Argument(help: "The topology file.")
        var file: String

        func run() throws {
            let (topology, _) = try Topology.loadOrExplain(file)
            print("\(file): ok — cluster \(topology.cluster) v\(topology.version), \(topology.regions.count) regions, \(topology.nodes.count) nodes")
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print what changes from OLD to NEW: regions, nodes, shard counts, latency.")

        @Argument(help: "The topology file in force.")
        var old: String

        @Argument(help: "The proposed topology file.")
        var new: String

        func run() throws {
            let (before, _) = try Topology.loadOrExplain(old)
            let (after, _) = try Topology.loadOrExplain(new)
            let diff = TopologyDiff(old: before, new: after)
            print(diff.isEmpty ? "no changes" : diff.description)
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a new topology version to the running cluster: every up node checks it; all adopt it or none does.",
            discussion: """
                The file's version must be the one in force plus one (a compare-and-set: of two
                applies of the same version, one wins). Each node checks the file's rules and what a
                running cluster cannot change live (a node's address, a region's storage, a node
                holding SQLite players' data removed…); any refusal changes nothing anywhere and is
                printed with the node's reason. Once applied, an added node may `bootstrap --seed`,
                a removed node drains and leaves, shard counts and latency_ms take effect.

                  meridian topology apply --topology Topology/local-v2.yaml --admin-token-file data/local-admin.token
                """
        )

        @Option(help: "The new topology file (its nodes are also how the cluster is reached).")
        var topology: String

        @Flag(help: "Print one JSON document: {version, applied, nodes: [{node, accepted, refusal, version}]}.")
        var json = false

        @Option(help: "Seconds to wait for each node.")
        var timeout: Double = 10

        @OptionGroup var token: AdminTokenOptions
        @OptionGroup var secret: SecretOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            var logger = logging.bootstrap()
            logger.logLevel = .warning
            let (parsed, yaml) = try Topology.loadOrExplain(topology)
            let adminToken = try token.load()
            let result = try await StatusClient.with(topology: parsed, secret: try secret.load(), logger: logger) { client -> TopologyApply.Result in
                guard let (_, members) = await client.firstAnswer(timeout: .seconds(2)) else {
                    throw ValidationError("no node of \(topology) answered (tried \(parsed.nodes.map(\.id).joined(separator: ", ")))")
                }
                let up = members.filter { $0.state == "up" }.map(\.node)
                let apply = TopologyApply(system: client.system, timeout: .milliseconds(Int(timeout * 1000)))
                return await apply.run(yaml: yaml, topology: parsed, members: up, token: adminToken)
            }
            if json {
                let nodes: [[String: Any]] = result.nodes.map { node in
                    var object: [String: Any] = ["node": node.node, "accepted": node.accepted]
                    object["refusal"] = node.refusal ?? NSNull()
                    object["version"] = node.version ?? NSNull()
                    return object
                }
                let document: [String: Any] = ["version": result.version, "applied": result.applied, "nodes": nodes]
                let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                for node in result.nodes {
                    let state = node.accepted ? (node.version.map { "runs v\($0)" } ?? "accepted") : "refused"
                    print("\(node.node): \(state)\(node.refusal.map { " — \($0)" } ?? "")")
                }
                print(result.applied ? "topology v\(result.version) applied" : "topology v\(result.version) not applied: nothing changed")
            }
            if !result.applied { throw ExitCode(1) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the topology version each node of the cluster runs.")

        @Option(help: "Topology file of the cluster to ask.")
        var topology: String

        @Flag(help: "Print a JSON array of {node, region, state, version} (version null for a node that did not answer).")
        var json = false

        @Option(help: "Seconds to wait for each node.")
        var timeout: Double = 2

        @OptionGroup var secret: SecretOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            var logger = logging.bootstrap()
            logger.logLevel = .warning
            let (parsed, _) = try Topology.loadOrExplain(topology)
            let wait = Duration.milliseconds(Int(timeout * 1000))
            let rows = try await StatusClient.with(topology: parsed, secret: try secret.load(), logger: logger) { client in
                guard let (_, members) = await client.firstAnswer(timeout: wait) else {
                    throw ValidationError("no node of \(topology) answered (tried \(parsed.nodes.map(\.id).joined(separator: ", ")))")
                }
                let versions = await client.topologyVersions(of: members.filter { !["down", "removed"].contains($0.state) }.map(\.node), timeout: wait)
                return members.map { member -> (node: String, region: String, state: String, version: Int?) in
                    let current = versions[member.node]
                    let state = current?.state == "leaving" ? "leaving" : member.state
                    return (member.node, member.region, state, current.map { Int($0.version) })
                }
            }
            if json {
                let objects: [[String: Any]] = rows.map { ["node": $0.node, "region": $0.region, "state": $0.state, "version": $0.version ?? NSNull()] }
                let data = try JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                for row in rows {
                    print("\(row.node.padding(toLength: 14, withPad: " ", startingAt: 0)) \(row.region.padding(toLength: 10, withPad: " ", startingAt: 0)) \(row.state.padding(toLength: 8, withPad: " ", startingAt: 0)) \(row.version.map { "v\($0)" } ?? "-")")
                }
            }
        }
    }
}
