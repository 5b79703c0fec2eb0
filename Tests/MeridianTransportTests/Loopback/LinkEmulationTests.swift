import Foundation
import MeridianTransport
import MeridianWire
import NIOCore
import Testing

extension Loopback {
    /// The link emulator's simulated latency and partitions (correctness of the emulator,
    /// asserted as lower bounds only).
    @Suite("Link emulation")
    struct LinkEmulationTests {
        static func emulation(_ region: String, oneWay: TimeAmount = .milliseconds(50)) -> LinkEmulation {
            LinkEmulation(localRegion: region) { from, to in from == to ? .zero : oneWay }
        }

        /// Answers every "ping" Call with a "pong" carrying the same id.
        static let ponger: @Sendable (Envelope, PeerConnection) -> Void = { envelope, connection in
            guard case .call(let call)? = envelope.kind, call.recipientPath == "ping" else { return }
            try? connection.send(Fixtures.call(call.callID, tag: "pong"))
        }

        @Test("with 50 ms one-way delay between regions, a ping/pong takes at least 100 ms and each way at least 50 ms")
        func delay() async throws {
            try await TestCluster.run { cluster in
                let a = try await cluster.start("node-a", region: "A", emulation: Self.emulation("A"))
                let b = try await cluster.start("node-b", region: "B", emulation: Self.emulation("B"), onReceive: Self.ponger)
                for id: UInt64 in 1...3 {
                    let sentAt = ContinuousClock.now
                    try a.send(Fixtures.call(id, tag: "ping"), to: b)
                    let value1 = await eventually { a.collector.calls.contains { $0.callID == id && $0.recipientPath == "pong" } }
                    #expect(value1)
                    let pongAtFound = a.collector.arrivals.first { $0.envelope.call.callID == id }
                    let pongAt = try #require(pongAtFound)
                    let pingAtFound = b.collector.arrivals.first { $0.envelope.call.callID == id }
                    let pingAt = try #require(pingAtFound)
                    #expect(pongAt.at - sentAt >= .milliseconds(100), "round trip \(pongAt.at - sentAt)")
                    #expect(pingAt.at - sentAt >= .milliseconds(50), "one way \(pingAt.at - sentAt)")
                    #expect(pongAt.at - pingAt.at >= .milliseconds(50), "way back \(pongAt.at - pingAt.at)")
                }
            }
        }

        @Test("within a region there is no added delay, and the order of messages is kept under delay")
        func orderUnderDelay() async throws {
            try await TestCluster.run { cluster in
                let a = try await cluster.start("node-a", region: "A", emulation: Self.emulation("A", oneWay: .milliseconds(30)))
                let b = try await cluster.start("node-b", region: "B")
                for id: UInt64 in 1...200 { try a.send(Fixtures.call(id), to: b) }
                let value4 = await eventually { b.collector.calls.count == 200 }
                #expect(value4)
                #expect(b.collector.calls.map(\.callID) == Array(1...200))
            }
        }

        @Test("a partition stops traffic both ways; after it heals, what was sent arrives in order")
        func partition() async throws {
            try await TestCluster.run { cluster in
                var configuration = TestCluster.configuration
                configuration.idleTimeout = .seconds(60)  // the connection may survive the partition
                let emulation = Self.emulation("A", oneWay: .zero)
                let a = try await cluster.start("node-a", region: "A", configuration: configuration, emulation: emulation)
                let b = try await cluster.start("node-b", region: "B", configuration: configuration)
                // One connection, dialed by node-a (no duplicate handshake in flight when the
                // partition starts: see the tie-break tests for that).
                try a.send(Fixtures.call(1), to: b)
                let value5 = await eventually { b.collector.calls.count == 1 }
                #expect(value5)
                try b.send(Fixtures.call(2), to: a)
                let value6 = await eventually { a.collector.calls.count == 1 }
                #expect(value6)
                #expect(a.collector.established.count == 1 && b.collector.established.count == 1)

                emulation.setPartitioned(region: "B", true)
                for id: UInt64 in 10..<20 {
                    try a.send(Fixtures.call(id), to: b)
                    try b.send(Fixtures.call(id + 100), to: a)
                }
                // Absence can only be observed by waiting.
                let leaked = await eventually(within: .seconds(1)) { b.collector.calls.count > 1 || a.collector.calls.count > 1 }
                #expect(!leaked, "traffic crossed the partition")

                // Healed: what was sent into the partition arrives, in order, on the same connection
                // (a stalled TCP connection loses nothing; frames lost from a live one would break
                // what later frames rely on).
                emulation.setPartitioned(region: "B", false)
                let arrived = await eventually { b.collector.calls.count == 11 && a.collector.calls.count == 11 }
                #expect(arrived)
                let atB = b.collector.calls.map(\.callID)
                let atA = a.collector.calls.map(\.callID)
                #expect(atB == [1] + Array(10..<20))
                #expect(atA == [2] + Array(110..<120))
                #expect(a.collector.established.count == 1 && b.collector.established.count == 1, "the same connection throughout")
            }
        }
    }
}
