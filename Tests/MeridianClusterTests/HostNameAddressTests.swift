import Distributed
import Foundation
import Logging
import MeridianCluster
import MeridianMembership
import MeridianTestScope
import Testing

/// Node addresses may be host names, as Kubernetes gives them (`pod-0.meridian-eu-west:7401`),
/// not only IP addresses: nodes bind, advertise, join through and call each other by name.
/// `localhost` is the one name every test machine resolves, to loopback only.
@Suite struct HostNameAddressTests {
    @Test func nodesAddressedByHostNameJoinAndCallEachOther() async throws {
        try await ClusterSlots.shared.withSlot {
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            var firstConfiguration = TestCluster.configuration(node: "named-1", seeds: [])
            firstConfiguration.bindHost = "localhost"
            let first = try await ClusterSystem.start(firstConfiguration, logger: logger)
            #expect(first.address.hasPrefix("localhost:"))
            var secondConfiguration = TestCluster.configuration(node: "named-2", seeds: [first.address])
            secondConfiguration.bindHost = "localhost"
            let second = try await ClusterSystem.start(secondConfiguration, logger: logger)
            let systems = [first, second]
            do {
                for system in systems {
                    try await system.membership.waitUntil(timeout: .seconds(20)) { members in
                        members.filter { $0.status == .up }.count == 2
                    }
                }
                let addresses = Set(first.membership.members.map(\.address))
                #expect(addresses == [first.address, second.address])
                let calculator = try first.makeActor(path: "/calc") { Calculator(actorSystem: first) }
                let remote = try Calculator.resolve(id: calculator.id, using: second)
                #expect(try await remote.add(20, 22) == 42)
            } catch {
                for system in systems { await system.shutdown() }
                throw error
            }
            for system in systems { await system.shutdown() }
        }
    }
}
