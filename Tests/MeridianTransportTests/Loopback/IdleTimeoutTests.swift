import Foundation
import MeridianTransport
import MeridianWire
import NIOCore
import Testing

extension Loopback {
    /// Over real TCP, a partitioned peer's connection is closed after the idle timeout. The
    /// heartbeat and timeout rules themselves are tested on a stepped loop in
    /// `HeartbeatHandlerTests`.
    @Suite("Heartbeats and idle timeout")
    struct IdleTimeoutTests {
        static var configuration: TransportConfiguration {
            var configuration = TestCluster.configuration
            configuration.heartbeatInterval = .milliseconds(100)
            configuration.idleTimeout = .milliseconds(1500)
            return configuration
        }

        @Test("a partitioned connection is closed after idleTimeout on both sides")
        func partitionedPeerIsClosed() async throws {
            try await TestCluster.run { cluster in
                let emulation = LinkEmulation(localRegion: "r1") { _, _ in .zero }
                let a = try await cluster.start("node-a", configuration: Self.configuration, emulation: emulation)
                let b = try await cluster.start("node-b", configuration: Self.configuration)
                try a.send(Fixtures.call(1), to: b)
                let value1 = await eventually { b.collector.calls.count == 1 }
                #expect(value1)
                #expect(a.collector.open.count == 1 && b.collector.open.count == 1)

                // Now node-a hears nothing from node-b and node-b nothing from node-a.
                let partitionedAt = ContinuousClock.now
                emulation.setPartitioned(node: "node-b", true)
                let value2 = await eventually { a.collector.closed.count == 1 && b.collector.closed.count == 1 }
                #expect(value2)
                #expect(ContinuousClock.now - partitionedAt >= .seconds(1), "closed before the idle timeout could have expired")
                #expect(a.transport.connections.isEmpty && b.transport.connections.isEmpty)
                let timeouts = a.transport.errorCounters.snapshot.other + b.transport.errorCounters.snapshot.other
                #expect(timeouts >= 1)
            }
        }
    }
}
