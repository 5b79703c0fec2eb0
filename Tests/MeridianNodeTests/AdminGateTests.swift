import Distributed
import Foundation
import Logging
import MeridianAdmin
import MeridianCluster
import MeridianNode
import MeridianRegion
import MeridianTestScope
import MeridianTestSupport
import MeridianTopology
import MeridianWire
import Testing

/// Operators act through a node's admin gate with an operator's token, and every action is
/// audited; the functions behind the gate refuse a tool that only holds the cluster secret.
@Suite struct AdminGateTests {
    static let operatorToken = "mrd_gate-operator"
    static let viewerToken = "mrd_gate-viewer"
    static let options = {
        var options = GameTestCluster.Options()
        options.adminTokens = AdminTokens(entries: [
            .init(name: "alice", role: .operator, token: operatorToken), .init(name: "grafana", role: .viewer, token: viewerToken),
        ])
        return options
    }()

    /// An actor system that does not join the cluster but holds its secret, like `meridian player …`.
    static func tool(_ cluster: GameTestCluster) async throws -> ClusterSystem {
        var configuration = ClusterSystem.Configuration(cluster: cluster.topology.cluster, node: "tool-\(UUID().uuidString.prefix(8))", region: "admin", secret: GameTestCluster.secret)
        configuration.joinsCluster = false
        configuration.knownAddresses = Dictionary(uniqueKeysWithValues: cluster.topology.nodes.compactMap { node in
            cluster.node(node.id).map { (node.id, $0.system.address) }
        })
        var logger = Logger(label: "gate-test")
        logger.logLevel = .critical
        return try await ClusterSystem.start(configuration, logger: logger)
    }

    @Test func anOperatorGrantsThroughTheGateEveryAttemptIsAuditedAndTheSecretAloneGrantsNothing() async throws {
        try await GameTestCluster.with(options: Self.options) { cluster in
            let player = try await cluster.createAccount(name: "granted", home: "eu-west")
            try await withScoped({ try await Self.tool(cluster) }, teardown: { await $0.shutdown() }) { tool in
                let gate = try AdminGate.resolve(id: ClusterActorID(node: "us-east-1", incarnation: 0, path: AdminGate.path), using: tool)

                // The player's home itself refuses the tool.
                let home = try PlayerDirectory(system: tool, topology: cluster.topology).home(of: player, region: "eu-west")
                do {
                    _ = try await home.grant(item: "gold", count: 1_000_000, idempotencyKey: "stolen")
                    Issue.record("a non-member granted items with the cluster secret alone")
                } catch let error as ClusterError {
                    #expect(error.isForbidden, "\(error)")
                }

                // Through the gate: a viewer or an unknown token is refused, an operator's grant lands.
                for token in [Self.viewerToken, "mrd_guess"] {
                    do {
                        _ = try await gate.grant(token: token, player: player, region: nil, item: "gold", count: 5, idempotencyKey: "k1")
                        Issue.record("\(token) granted items")
                    } catch let error as ClusterError {
                        #expect(error.isForbidden, "\(error)")
                    }
                }
                let receipt = try await gate.grant(token: Self.operatorToken, player: player, region: nil, item: "gold", count: 5, idempotencyKey: "k1")
                #expect(receipt.balancesAfter["gold"] == 5)
                let view = try await cluster.home(of: player, region: "eu-west").view()
                #expect(view.balances["gold"] == 5)

                // us-east-1's audit log: the viewer's refusal and alice's grant (an unknown token names nobody).
                let audit = try #require(cluster.node("us-east-1")?.admin?.audit)
                let entries = await audit.entries()
                #expect(entries.map(\.who) == ["grafana", "alice"])
                #expect(entries.map(\.action) == ["player.grant", "player.grant"])
                #expect(entries.first?.result.hasPrefix("refused") == true)
                #expect(entries.last?.result == "ok")
                #expect(entries.last?.target.contains(player.uuidString.lowercased()) == true)
            }
        }
    }

    @Test func banAndKeyRotationGoThroughTheGateAndNotAroundIt() async throws {
        try await GameTestCluster.with(options: Self.options) { cluster in
            let player = try await cluster.createAccount(name: "banned", home: "us-east")
            try await withScoped({ try await Self.tool(cluster) }, teardown: { await $0.shutdown() }) { tool in
                let gate = try AdminGate.resolve(id: ClusterActorID(node: "eu-west-2", incarnation: 0, path: AdminGate.path), using: tool)
                let entry = try await gate.setBanned(token: Self.operatorToken, player: player, banned: true)
                #expect(entry.state == .banned)
                let keys = try await gate.rotateKeys(token: Self.operatorToken)
                #expect(keys.count >= 2)
                let actions = await cluster.node("eu-west-2")?.admin?.audit.entries().map(\.action)
                #expect(actions == ["account.ban", "identity.rotate_keys"])
            }
        }
    }
}
