import Foundation
import MeridianTransport
import MeridianWire
import NIOCore
import Testing

extension Loopback {
    /// Heartbeats keep a quiet connection alive; silence closes it after the idle timeout.
    @Suite("Heartbeats and idle timeout")
    struct IdleTimeoutTests {
        static var configuration: TransportConfiguration {
            var configuration = TestCluster.configuration
            configuration.heartbeatInterval = .milliseconds(100)
            configuration.idleTimeout = .milliseconds(1500)
            return configuration
        }

        @Test("a quiet connection survives on heartbeats; a partitioned one is closed after idleTimeout")
        func partitionedPeerIsClosed() async throws {
            try await TestCluster.run { cluster in
                let emulation = LinkEmulation(localRegion: "r1") { _, _ in .zero }
                let a = try await cluster.start("node-a", configuration: Self.configuration, emulation: emulation)
                let b = try await cluster.start("node-b", configuration: Self.configuration)
                try a.send(Fixtures.call(1), to: b)
                #expect(await eventually { b.collector.calls.count == 1 })

                // Twice the idle timeout with no traffic but heartbeats: still connected.
                try await Task.sleep(for: .seconds(3))
                #expect(a.collector.open.count == 1 && b.collector.open.count == 1)
                #expect(a.collector.closed.isEmpty && b.collector.closed.isEmpty)

                // Now node-a hears nothing from node-b and node-b nothing from node-a.
                let partitionedAt = ContinuousClock.now
                emulation.setPartitioned(node: "node-b", true)
                #expect(await eventually { a.collector.closed.count == 1 && b.collector.closed.count == 1 })
                #expect(ContinuousClock.now - partitionedAt >= .seconds(1), "closed before the idle timeout could have expired")
                #expect(a.transport.connections.isEmpty && b.transport.connections.isEmpty)
                let timeouts = a.transport.errorCounters.snapshot.other + b.transport.errorCounters.snapshot.other
                #expect(timeouts >= 1)
            }
        }
    }
}
