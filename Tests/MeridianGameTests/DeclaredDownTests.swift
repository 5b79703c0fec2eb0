import Foundation
import MeridianCluster
import MeridianMembership
import MeridianNode
import MeridianTestSupport
import MeridianTopology
import MeridianTransport
import Testing

/// A node the cluster declared down while it kept running (cut off, or paused, longer than the
/// failure detector allows) cannot come back under that incarnation: it must learn what
/// happened and stop, so that it restarts (`meridian bootstrap` exits for its supervisor).
@Suite struct DeclaredDownTests {
    @Test func aNodeCutOffUntilDeclaredDownLearnsItOnceTheLinkHeals() async throws {
        try await GameTestCluster.with(options: .init(emulateLinks: true)) { cluster in
            let victim = "us-east-2"
            let ids = cluster.topology.nodes.map(\.id)
            let node = try #require(cluster.node(victim))
            let system = node.system
            let learned = Task { await system.membership.declaredDown() }
            cluster.partition([victim], true)
            for id in ids where id != victim {
                try await cluster.node(id)!.system.membership.waitUntil(timeout: .seconds(60)) { members in
                    members.contains { $0.id.node == victim && $0.status.isTerminal }
                }
            }
            cluster.partition([victim], false)
            let declaredDown = await learned.value
            #expect(declaredDown, "the node learned that the cluster declared it down")
            let seenByItself = system.membership.members.first(where: { $0.id.node == victim })?.status
            #expect(seenByItself?.isTerminal == true)
            // It stops by itself, so that its supervisor starts it again as a new incarnation.
            try await node.waitUntilStopped()
            #expect(node.node.wasDeclaredDown)
        }
    }

    @Test func aNodeLeavingOnPurposeIsNotDeclaredDown() async throws {
        try await GameTestCluster.with(nodes: ["eu-west-1", "eu-west-2"]) { cluster in
            let system = try #require(cluster.node("eu-west-2")).system
            let learned = Task { await system.membership.declaredDown() }
            await system.shutdown()
            let declaredDown = await learned.value
            #expect(!declaredDown)
        }
    }
}
