import Foundation
import MeridianCatalog
import MeridianCluster
import MeridianMembership
import MeridianTestScope
import MeridianTopology
import Testing

/// Publishing over a real 3-region cluster of in-process ClusterSystems (Topology/local.yaml, its
/// latency emulated on the wire).
@Suite("Catalog publish and replication across 3 regions", .serialized)
struct CatalogReplicationTests {
    /// Runs `body` on a fresh cluster and always shuts it down. The push timeout is long by
    /// default: a test that expects every node to acknowledge must not depend on how fast a
    /// loaded machine (every suite at once, 2 cores) answers — seen: all four remote pushes missed
    /// a 3 s timeout in a full run. A test about a missed push sets a short one.
    func withCluster(
        name: String = #function, suspicionTimeout: Duration = .milliseconds(800), pushTimeout: Duration = .seconds(20),
        _ body: (CatalogTestCluster) async throws -> Void
    ) async throws {
        try await ClusterSlots.shared.withSlot {
            try await withScoped({
                try await CatalogTestCluster.start(name: name, suspicionTimeout: suspicionTimeout, pushTimeout: pushTimeout)
            }, teardown: { await $0.shutdown() }, body)
        }
    }

    func expectEveryNodeServes(_ cluster: CatalogTestCluster, _ receipt: CatalogPublishReceipt, sourceLocation: SourceLocation = #_sourceLocation) {
        for node in cluster.all {
            let served = node.catalog.local.current
            #expect(served.version == receipt.version, "\(node.system.nodeID) serves v\(served.version)", sourceLocation: sourceLocation)
            #expect(served.contentHash == receipt.contentHash, "\(node.system.nodeID)", sourceLocation: sourceLocation)
        }
    }

    @Test("a publish reaches every node of every region, including a node that was down during it and restarted after")
    func publishReachesEveryNodeAndARestartedOneCatchesUp() async throws {
        try await withCluster { cluster in
            // Published from another region: the request goes to the primary region, whose leader numbers it.
            let admin = CatalogAdmin(system: try #require(cluster.node("us-east-1")).system)
            let first = try await admin.publish(CatalogSamples.consistent(generation: 1), source: "test", primaryNodes: cluster.primaryNodes)
            #expect(first.version == 1)
            #expect(first.leader == "eu-west-1")
            #expect(Set(first.acknowledged) == Set(cluster.nodeIDs), "missed: \(first.missed)")
            expectEveryNodeServes(cluster, first)

            // ap-south-2 goes away; the others see it leave, then the next version is published.
            let victim = try #require(cluster.node("ap-south-2"))
            let oldIncarnation = victim.system.incarnation
            await cluster.stop("ap-south-2")
            let others = cluster.nodeIDs.filter { $0 != "ap-south-2" }
            for node in cluster.all {
                try await node.system.membership.waitUntil(timeout: .seconds(20)) { members in
                    !members.contains { $0.id.node == "ap-south-2" && ($0.status == .up || $0.status == .suspect) }
                }
            }
            let second = try await admin.publish(CatalogSamples.consistent(generation: 2), source: "test", primaryNodes: cluster.primaryNodes)
            #expect(second.version == 2)
            #expect(Set(second.acknowledged) == Set(others))
            expectEveryNodeServes(cluster, second)

            // It comes back as a new incarnation: it serves its persisted v1 at once, then pulls v2.
            let restarted = try await cluster.start("ap-south-2")
            #expect(restarted.system.incarnation > oldIncarnation)
            #expect(restarted.catalog.local.version == 1)
            let caughtUp = try await restarted.catalog.local.waitForVersion(2, timeout: .seconds(20))
            #expect(caughtUp.contentHash == second.contentHash)
            #expect(CatalogSamples.violation(in: caughtUp) == nil)
            expectEveryNodeServes(cluster, second)
        }
    }

    @Test("a node cut off during a publish misses it, then pulls it when the link is back")
    func cutOffNodeCatchesUp() async throws {
        // A long suspicion timeout: the cut lasts less, so the node is never declared down — it just misses pushes.
        // The push timeout is what the cut-off node's push waits out; the others must ack within
        // it on a machine busy with the rest of the suite (600 ms was too tight: 4 nodes missed once).
        try await withCluster(suspicionTimeout: .seconds(30), pushTimeout: .seconds(5)) { cluster in
            let admin = CatalogAdmin(system: try #require(cluster.node("ap-south-1")).system)
            let first = try await admin.publish(CatalogSamples.consistent(generation: 1), source: "test", primaryNodes: cluster.primaryNodes)
            try await cluster.waitUntilServed(first.version)

            cluster.setCutOff("us-east-2", true)
            let second = try await admin.publish(CatalogSamples.consistent(generation: 2), source: "test", primaryNodes: cluster.primaryNodes)
            #expect(second.missed == ["us-east-2"])
            #expect(second.acknowledged.count == cluster.nodeIDs.count - 1)
            let cutOff = try #require(cluster.node("us-east-2"))
            try await Task.sleep(for: .seconds(1))  // two anti-entropy rounds: nothing gets through
            #expect(cutOff.catalog.local.version == first.version)

            cluster.setCutOff("us-east-2", false)
            let caughtUp = try await cutOff.catalog.local.waitForVersion(second.version, timeout: .seconds(20))
            #expect(caughtUp.contentHash == second.contentHash)
            expectEveryNodeServes(cluster, second)
        }
    }

    @Test("a bad catalog is refused by the leader and changes nothing anywhere")
    func badCatalogChangesNothing() async throws {
        try await withCluster { cluster in
            let admin = CatalogAdmin(system: try #require(cluster.node("us-east-1")).system)
            let good = try await admin.publish(CatalogSamples.consistent(generation: 1), source: "test", primaryNodes: cluster.primaryNodes)
            try await cluster.waitUntilServed(good.version)

            // Built in code, so it skips the loader: the leader's own validation must refuse it.
            var bad = CatalogSamples.consistent(generation: 2)
            bad.offers.append(StoreOffer(id: "offer.ghost", item: "ghost", price: .init(currency: "gold", amount: 1)))
            do {
                _ = try await admin.publish(bad, source: "bad.yaml", primaryNodes: cluster.primaryNodes)
                Issue.record("the leader accepted a catalog whose offer sells an unknown item")
            } catch let error as ClusterError {
                #expect(error.code == .remoteError)
                #expect(error.message.contains("invalid-catalog"), "\(error)")
                #expect(error.message.contains("ghost"), "\(error)")
            }
            try await Task.sleep(for: .seconds(1))  // more than a sync interval: nothing is on its way either
            expectEveryNodeServes(cluster, good)
            for id in cluster.nodeIDs {
                let persisted = try CatalogFileStore(directory: cluster.directory.path, node: id).load()
                #expect(persisted?.stamp == CatalogStamp(version: good.version, hash: good.contentHash), "\(id)'s file")
            }
        }
    }

    @Test("a client outside the membership holding the cluster secret cannot publish: only members can (operators go through a node's admin gate)")
    func nonMembersCannotPublish() async throws {
        try await withCluster { cluster in
            let client = try await cluster.adminClient()
            do {
                _ = try await CatalogAdmin(system: client).publish(CatalogSamples.consistent(generation: 1), source: "test", primaryNodes: cluster.primaryNodes)
                Issue.record("a non-member published a catalog")
            } catch let error as ClusterError {
                #expect(error.isForbidden, "\(error)")
            }
            await client.shutdown()
            for node in cluster.all { #expect(node.catalog.local.current.version == 0, "\(node.system.nodeID)") }
        }
    }

    @Test("only the catalog leader pushes: a push from another member is refused and nothing changes")
    func onlyTheLeaderPushes() async throws {
        try await withCluster { cluster in
            let good = try await CatalogAdmin(system: try #require(cluster.node("us-east-1")).system)
                .publish(CatalogSamples.consistent(generation: 1), source: "test", primaryNodes: cluster.primaryNodes)
            try await cluster.waitUntilServed(good.version)
            // eu-west-2 is a member but not the leader (eu-west-1 is): it pushes a forged last version.
            let forger = try #require(cluster.node("eu-west-2")).system
            let target = try CatalogReplica.resolve(id: ClusterActorID(node: "us-east-1", incarnation: 0, path: CatalogReplica.path), using: forger)
            let forged = CatalogSnapshot(version: UInt64.max, content: CatalogSamples.consistent(generation: 2))
            do {
                _ = try await target.push(forged.proto)
                Issue.record("a push from a member that is not the leader was accepted")
            } catch let error as ClusterError {
                #expect(error.message.contains("not-leader"), "\(error)")
            }
            expectEveryNodeServes(cluster, good)
        }
    }

    @Test("a member outside the primary region, a follower that forwards, an idempotent retry, and a new leader that continues the versions")
    func forwardingRetryAndFailover() async throws {
        try await withCluster { cluster in
            let admin = CatalogAdmin(system: try #require(cluster.node("us-east-1")).system)
            // eu-west-2 answers first and forwards to the leader, eu-west-1.
            let first = try await admin.publish(CatalogSamples.consistent(generation: 1), source: "test", primaryNodes: ["eu-west-2", "eu-west-1"])
            #expect(first.leader == "eu-west-1")
            #expect(first.version == 1)
            // The same content again (a retry after a lost reply) makes no new version.
            let retry = try await admin.publish(CatalogSamples.consistent(generation: 1), source: "test", primaryNodes: cluster.primaryNodes)
            #expect(retry.version == 1)
            #expect(retry.contentHash == first.contentHash)
            let second = try await admin.publish(CatalogSamples.consistent(generation: 2), source: "test", primaryNodes: cluster.primaryNodes)
            #expect(second.version == 2)
            try await cluster.waitUntilServed(2)

            // The leader leaves; eu-west-2 takes over and numbers the next publish 3.
            await cluster.stop("eu-west-1")
            for node in cluster.all {
                try await node.system.membership.waitUntil(timeout: .seconds(20)) { members in
                    !members.contains { $0.id.node == "eu-west-1" && ($0.status == .up || $0.status == .suspect) }
                }
            }
            let third = try await CatalogAdmin(system: try #require(cluster.node("ap-south-1")).system)
                .publish(CatalogSamples.consistent(generation: 3), source: "test", primaryNodes: cluster.primaryNodes)
            #expect(third.leader == "eu-west-2")
            #expect(third.version == 3)
            expectEveryNodeServes(cluster, third)
        }
    }

    @Test("catalog show: every node reports what it serves; a stopped node is reported, not skipped")
    func reports() async throws {
        try await withCluster { cluster in
            let admin = CatalogAdmin(system: try #require(cluster.node("eu-west-1")).system)
            let receipt = try await admin.publish(CatalogSamples.consistent(generation: 4), source: "test", primaryNodes: cluster.primaryNodes)
            await cluster.stop("us-east-2")
            let reports = await admin.reports(nodes: CatalogTestCluster.topology.nodes.map { ($0.id, $0.region) }, timeout: .seconds(2))
            #expect(reports.map(\.node) == cluster.nodeIDs)
            for report in reports where report.node != "us-east-2" {
                #expect(report.version == receipt.version && report.contentHash == receipt.contentHash && report.problem == nil, "\(report)")
            }
            let problem1 = reports.first { $0.node == "us-east-2" }?.problem
            #expect(problem1 != nil)
        }
    }
}
