import Foundation
import Logging
import MeridianCluster
import MeridianIdentity
import MeridianNode
import MeridianTestScope
import MeridianTestSupport
import MeridianTopology
import MeridianTransport
import NIOCore
import NIOPosix
import Testing

/// A node as one service group: its parts start in order, and a part that cannot start stops
/// what already started.
@Suite struct MeridianNodeTests {
    /// A one-node cluster whose addresses are free loopback ports.
    struct OneNode {
        let directory: URL
        let clusterPort: Int
        let gatewayPort: Int
        let configuration: NodeConfiguration

        init() async throws {
            let ports = try await freeTCPPorts(2)
            clusterPort = ports[0]
            gatewayPort = ports[1]
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-node-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let topology = try TopologyLoader.parse(yaml: """
                cluster: node-test
                version: 1
                regions:
                  eu-west: { shards: 2, storage: "sqlite:\(directory.path)/eu-west" }
                catalog_primary: eu-west
                identity_authority: eu-west
                dev_login: true
                seeds: [eu-west-1]
                nodes:
                  - { id: eu-west-1, region: eu-west, cluster: "127.0.0.1:\(clusterPort)", gateway: "127.0.0.1:\(gatewayPort)" }
                """)
            var cluster = ClusterSystem.Configuration(cluster: "node-test", node: "eu-west-1", region: "eu-west", secret: GameTestCluster.secret)
            cluster.bindHost = "127.0.0.1"
            cluster.bindPort = clusterPort
            cluster.advertisedAddress = "127.0.0.1:\(clusterPort)"
            var configuration = NodeConfiguration(cluster: cluster, topology: topology)
            configuration.fixedRules = GameTestCluster.fastRules()
            configuration.identity.password = .testing
            self.configuration = configuration
        }
    }

    static func listen(on port: Int) async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: port)
            .get()
    }

    static var logger: Logger {
        var logger = Logger(label: "node-test")
        logger.logLevel = .critical
        return logger
    }

    @Test func aPartThatCannotStartStopsThePartsThatStartedBeforeIt() async throws {
        try await ClusterSlots.shared.withSlot {
            let setup = try await OneNode()
            defer { try? FileManager.default.removeItem(at: setup.directory) }
            // Someone else holds the gateway's port: the gateway, the last part, cannot start.
            let squatter = try await Self.listen(on: setup.gatewayPort)
            let node = MeridianNode(configuration: setup.configuration, logger: Self.logger)
            do {
                try await node.run()
                Issue.record("the node ran with its gateway port taken")
            } catch let error as IOError {
                #expect(error.errnoCode == EADDRINUSE)
            }
            do {
                _ = try await node.started()
                Issue.record("a node whose gateway failed reports itself started")
            } catch let error as IOError {
                #expect(error.errnoCode == EADDRINUSE)
            }
            #expect(!node.wasDeclaredDown)
            // The actor system had started and is stopped again: its cluster port is free.
            let clusterPort = try await Self.listen(on: setup.clusterPort)
            try await clusterPort.close()
            try await squatter.close()

            // With the port back, the same node (same store) starts whole, and leaves when told.
            let again = MeridianNode(configuration: setup.configuration, logger: Self.logger)
            let running = Task { try await again.run() }
            let parts = try await again.started()
            #expect(parts.gateway != nil)
            #expect(parts.catalog == nil, "fixed rules: no catalog replica")
            #expect(parts.system.nodeID == "eu-west-1")
            await again.stop(.leave(drainTimeout: .zero))
            try await running.value
            #expect(!again.wasDeclaredDown)
        }
    }

    @Test func aNodeStoppedBeforeItRunsEndsWithoutReportingItselfStarted() async throws {
        try await ClusterSlots.shared.withSlot {
            let setup = try await OneNode()
            defer { try? FileManager.default.removeItem(at: setup.directory) }
            let node = MeridianNode(configuration: setup.configuration, logger: Self.logger)
            await node.stop()
            try await node.run()
            do {
                _ = try await node.started()
                Issue.record("a node stopped before it ran reports itself started")
            } catch {
                // Why a part did not start: cancelled, in whatever words the part uses.
            }
            // Whatever had started meanwhile was stopped: nothing listens on its cluster port.
            let cluster = try await Self.listen(on: setup.clusterPort)
            try await cluster.close()
        }
    }
}
