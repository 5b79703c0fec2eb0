import Foundation
import MeridianCluster
import MeridianGame
import MeridianMembership
import MeridianNode
import MeridianTestSupport
import MeridianTopology
import Testing

/// What a node does when it is cut off from every other node (README, "Partitions"): it takes
/// no shard, runs no matchmaker and takes over no other node's players, while the rest of its
/// region — which declares it down — takes them over; when the link heals, only it goes down
/// (and starts again as a new incarnation), never the nodes that went on without it.
@Suite struct PartitionPolicyTests {
    @Test func aNodeCutOffFromEveryoneTakesNothingAndTakesNobodyDownWhenItComesBack() async throws {
        let victim = "eu-west-2", survivor = "eu-west-1"
        // A longer suspicion than the tests' usual 2 s: the test asserts that nobody but the cut-off
        // node goes down, and on a starved machine a healthy node answering late can be declared
        // down by the failure detector on its own (seen once with a chaos run beside the suite).
        let options = GameTestCluster.Options(suspicionTimeout: .seconds(5), emulateLinks: true)
        let learned = try await GameTestCluster.with(shards: 8, options: options) { cluster -> [String: Task<Bool, Never>] in
            let others = cluster.topology.nodes.map(\.id).filter { $0 != victim }
            let victimNode = try #require(cluster.node(victim))
            let survivorNode = try #require(cluster.node(survivor))
            var learned: [String: Task<Bool, Never>] = [:]
            for id in others {
                let system = try #require(cluster.node(id)).system
                learned[id] = Task { await system.membership.declaredDown() }
            }
            #expect(!victimNode.game.placement.shards(of: victim, in: "eu-west").isEmpty)

            cluster.partition([victim], true)
            for id in others {
                try await cluster.node(id)!.system.membership.waitUntil(timeout: .seconds(60)) { members in
                    members.contains { $0.id.node == victim && $0.status.isTerminal }
                }
            }
            try await cluster.eventually("the cut-off node knows it is cut off") { victimNode.system.isCutOff(in: cluster.topology) }
            #expect(victimNode.game.placement.shards(of: victim, in: "eu-west").isEmpty, "the cut-off node owns no shard")
            #expect(victimNode.game.placement.matchmakerNode(region: "eu-west") == nil, "nor the matchmaker")
            #expect(!survivorNode.system.isCutOff(in: cluster.topology))
            #expect(survivorNode.game.placement.shards(of: survivor, in: "eu-west").count == 8, "the rest of the region took every shard")
            #expect(survivorNode.game.placement.matchmakerNode(region: "eu-west") == survivor)

            cluster.partition([victim], false)
            // It learns it was declared down and stops (its supervisor, or `meridian bootstrap`
            // itself, starts it again as a new incarnation).
            try await victimNode.waitUntilStopped(timeout: .seconds(60))
            #expect(victimNode.node.wasDeclaredDown)
            for id in others {
                let status = cluster.node(id)!.system.membership.members.first { $0.id.node == id }?.status
                #expect(status == .up, "\(id) is still up for itself")
            }
            return learned
        }
        // Stopped by the test's teardown, not declared down.
        for (id, task) in learned {
            let declaredDown = await task.value
            #expect(!declaredDown, "\(id) was not declared down")
        }
    }
}
