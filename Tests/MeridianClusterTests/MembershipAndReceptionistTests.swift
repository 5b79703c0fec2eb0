import Distributed
import Foundation
import MeridianCluster
import MeridianMembership
import MeridianTestScope
import Testing

@Suite("Membership and receptionist over real connections")
struct MembershipAndReceptionistTests {
    @Test func threeNodesSeeEachOtherUpAndADepartureAsDown() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let leaving = cluster.systems[2]
            let changes = cluster.systems[0].membership.changes()
            await leaving.shutdown()
            try await cluster.systems[0].membership.waitUntil(timeout: .seconds(30)) { members in
                members.first { $0.id.node == leaving.nodeID }.map { $0.status >= .down } ?? true
            }
            var sawDown = false
            for await change in changes where change.member.id.node == leaving.nodeID {
                if change.current == .down { sawDown = true; break }
            }
            #expect(sawDown)
        }
    }

    @Test func aRestartedNodeIsANewIncarnation() async throws {
        try await TestCluster.with(nodes: 2) { cluster in
            let old = cluster.systems[1]
            await old.shutdown()
            var configuration = TestCluster.configuration(node: old.nodeID, seeds: [cluster.systems[0].address])
            configuration.incarnation = old.incarnation + 1
            try await withScoped({ try await ClusterSystem.start(configuration, logger: old.logger) }, teardown: { await $0.shutdown() }) { _ in
                try await cluster.systems[0].membership.waitUntil(timeout: .seconds(30)) { members in
                    members.contains { $0.id.node == old.nodeID && $0.id.incarnation == old.incarnation + 1 && $0.status == .up }
                        && !members.contains { $0.id.node == old.nodeID && $0.id.incarnation == old.incarnation && $0.status < .down }
                }
            }
        }
    }

    @Test func receptionistFindsActorsOnEveryNode() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let calculators = try cluster.systems.map { system in
                let calculator = try system.makeActor(path: "/calc") { Calculator(actorSystem: system) }
                system.receptionist.register(calculator, key: "calculators")
                return calculator
            }
            for system in cluster.systems {
                let found = try await system.receptionist.waitFor(Calculator.self, key: "calculators", count: 3)
                #expect(Set(found.map(\.id.node)) == Set(cluster.systems.map(\.nodeID)))
                for calculator in found {
                    #expect(try await calculator.add(2, 2) == 4)
                }
            }
            _ = calculators
        }
    }
}
