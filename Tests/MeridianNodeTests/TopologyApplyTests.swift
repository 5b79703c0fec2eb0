import Foundation
import MeridianAdmin
import MeridianCluster
import MeridianGame
import MeridianMembership
import MeridianNode
import MeridianTestScope
import MeridianTestSupport
import MeridianTopology
import Testing

/// `meridian topology apply` against running nodes: all adopt a version or none does, the
/// version is a compare-and-set, a node that missed it catches up, a removed node leaves.
@Suite struct TopologyApplyTests {
    static let operatorToken = "mrd_topology-operator"
    static let viewerToken = "mrd_topology-viewer"
    static func options(storage: [String: String] = [:]) -> GameTestCluster.Options {
        var options = GameTestCluster.Options(storage: storage)
        options.adminTokens = AdminTokens(entries: [
            .init(name: "ops", role: .operator, token: operatorToken), .init(name: "grafana", role: .viewer, token: viewerToken),
        ])
        return options
    }

    /// The cluster's file as version `version`, with `change` applied to its text.
    static func yaml(_ cluster: GameTestCluster, version: Int, _ change: (String) -> String = { $0 }) -> String {
        change(cluster.topologyYAML.replacingOccurrences(of: "version: 1", with: "version: \(version)"))
    }

    static func apply(_ yaml: String, via cluster: GameTestCluster, members: [String]? = nil, token: String = operatorToken) async throws -> TopologyApply.Result {
        let topology = try TopologyLoader.parse(yaml: yaml)
        let system = try #require(cluster.node(members?.first ?? "eu-west-1")).system
        return await TopologyApply(system: system, timeout: .seconds(10))
            .run(yaml: yaml, topology: topology, members: members ?? cluster.topology.nodes.map(\.id), token: token)
    }

    static func versions(_ cluster: GameTestCluster, _ nodes: [String]? = nil) -> [Int] {
        (nodes ?? cluster.topology.nodes.map(\.id)).compactMap { cluster.node($0)?.liveTopology.version }
    }

    @Test func aVersionIsAdoptedByEveryNodeKeptOnDiskAndItsShardCountsTakeEffect() async throws {
        try await GameTestCluster.with(options: Self.options()) { cluster in
            let yaml = Self.yaml(cluster, version: 2) { $0.replacingOccurrences(of: "eu-west: { shards: 4", with: "eu-west: { shards: 6") }
            let result = try await Self.apply(yaml, via: cluster)
            #expect(result.applied, "\(result.nodes)")
            #expect(Self.versions(cluster) == [2, 2, 2, 2])
            for node in cluster.topology.nodes.map(\.id) {
                #expect(cluster.node(node)?.game.placement.shardCount(of: "eu-west") == 6)
            }
            let kept = try AppliedTopologyFile(directory: cluster.topology.dataDirectory(region: "eu-west"), node: "eu-west-1").load(cluster: cluster.topology.cluster)
            #expect(kept?.topology.version == 2)
            // The same apply again: the version is no longer the next one.
            let again = try await Self.apply(yaml, via: cluster)
            #expect(!again.applied)
            #expect(again.nodes.first?.refusal?.contains("is not newer") == true)
        }
    }

    @Test func aRefusedFileChangesNothingOnAnyNode() async throws {
        try await GameTestCluster.with(options: Self.options()) { cluster in
            // A running node cannot move: every node checks, the first refuses, nothing is prepared further.
            let moved = Self.yaml(cluster, version: 2) { $0.replacingOccurrences(of: "cluster: \"127.0.0.1:10\"", with: "cluster: \"127.0.0.1:13\"") }
            let refused = try await Self.apply(moved, via: cluster)
            #expect(!refused.applied)
            #expect(refused.nodes.count == 1)
            #expect(refused.nodes.first?.refusal?.contains("node us-east-2 changes its cluster or gateway address") == true)
            // A viewer's token does not apply anything; neither does a version that skips one.
            let good = Self.yaml(cluster, version: 2)
            let viewer = try await Self.apply(good, via: cluster, token: Self.viewerToken)
            #expect(viewer.nodes.first?.refusal?.contains("needs an operator") == true)
            let skipping = try await Self.apply(Self.yaml(cluster, version: 3), via: cluster)
            #expect(skipping.nodes.first?.refusal?.contains("skips versions") == true)
            #expect(Self.versions(cluster) == [1, 1, 1, 1])
            // Nothing was left prepared: the good file applies at once.
            #expect(try await Self.apply(good, via: cluster).applied)
            #expect(Self.versions(cluster) == [2, 2, 2, 2])
        }
    }

    @Test func ofTwoConcurrentAppliesOfOneVersionExactlyOneWinsEverywhere() async throws {
        try await GameTestCluster.with(options: Self.options()) { cluster in
            let six = Self.yaml(cluster, version: 2) { $0.replacingOccurrences(of: "eu-west: { shards: 4", with: "eu-west: { shards: 6") }
            let eight = Self.yaml(cluster, version: 2) { $0.replacingOccurrences(of: "eu-west: { shards: 4", with: "eu-west: { shards: 8") }
            async let first = Self.apply(six, via: cluster)
            async let second = Self.apply(eight, via: cluster, members: ["us-east-1", "eu-west-1", "eu-west-2", "us-east-2"])
            let results = try await [first, second]
            #expect(results.filter(\.applied).count == 1, "\(results.map(\.nodes))")
            #expect(Self.versions(cluster) == [2, 2, 2, 2])
            let counts = Set(cluster.topology.nodes.compactMap { cluster.node($0.id)?.game.placement.shardCount(of: "eu-west") })
            #expect(counts.count == 1)
            #expect(counts == [results[0].applied ? 6 : 8])
        }
    }

    @Test func aNodeThatWasDownDuringAnApplyTakesTheVersionWhenItComesBack() async throws {
        try await GameTestCluster.with(options: Self.options()) { cluster in
            await cluster.kill("us-east-2")
            try await cluster.node("eu-west-1")!.system.membership.waitUntil(timeout: .seconds(30)) { members in
                members.contains { $0.id.node == "us-east-2" && $0.status.isTerminal }
            }
            let yaml = Self.yaml(cluster, version: 2) { $0.replacingOccurrences(of: "us-east: { shards: 4", with: "us-east: { shards: 5") }
            let result = try await Self.apply(yaml, via: cluster, members: ["eu-west-1", "eu-west-2", "us-east-1"])
            #expect(result.applied)
            // Restarted with the old file (as `bootstrap --topology` would be): it catches up from a peer.
            let back = try await cluster.start("us-east-2")
            let version = try await cluster.eventuallyValue("us-east-2 runs v2") { back.liveTopology.version == 2 ? 2 : nil }
            #expect(version == 2)
            #expect(back.game.placement.shardCount(of: "us-east") == 5)
        }
    }

    @Test(.enabled(if: TestPostgres.url != nil))
    func aNodeRemovedFromARegionThatSharesItsStoreDrainsAndLeaves() async throws {
        try await TestPostgres.withDatabase { database in
            try await GameTestCluster.with(options: Self.options(storage: ["us-east": TestPostgres.storageURL(database)])) { cluster in
                let removed = Self.yaml(cluster, version: 2) { yaml in
                    yaml.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("id: us-east-2") }.joined(separator: "\n")
                }
                let result = try await Self.apply(removed, via: cluster)
                #expect(result.applied, "\(result.nodes)")
                let leaving = try #require(cluster.node("us-east-2"))
                try await leaving.waitUntilStopped()
                #expect(!leaving.node.wasDeclaredDown)
                try await cluster.node("us-east-1")!.system.membership.waitUntil(timeout: .seconds(30)) { members in
                    members.contains { $0.id.node == "us-east-2" && $0.status.isTerminal }
                }
                #expect(cluster.node("us-east-1")?.game.placement.liveNodes(in: "us-east") == ["us-east-1"])
            }
        }
    }
}
