import Foundation
import MeridianTransport
import MeridianWire
import NIOCore
import Testing

extension Loopback {
    /// Both nodes dial each other at once: they agree on one connection and close the other.
    @Suite("Duplicate connection tie-break")
    struct TieBreakTests {
        @Test("simultaneous dials settle on one shared connection, and messages flow both ways", arguments: 0..<3)
        func simultaneousDials(round: Int) async throws {
            try await TestCluster.run { cluster in
                let a = try await cluster.start("node-a")
                let b = try await cluster.start("node-b")
                try a.send(Fixtures.call(1, tag: "a-first"), to: b)
                try b.send(Fixtures.call(2, tag: "b-first"), to: a)

                // Settled: one open connection on each side, the same TCP connection, and it is the
                // one node-a dialed (node-b's dial can win both sides for a moment, while node-a's
                // is still in its handshake: that is not settled yet). And no other channel is left
                // on either side: the losing dial, however late its handshake, has been closed
                // (else it would be counted below as a connection dialed after settling).
                let settled = await eventually(within: .seconds(30), every: .milliseconds(50)) {
                    guard a.collector.open.count == 1, b.collector.open.count == 1,
                          a.transport.connections.count == 1, b.transport.connections.count == 1,
                          a.transport.links == (1, 0), b.transport.links == (1, 0),
                          let atA = a.transport.connection(to: "node-b"), let atB = b.transport.connection(to: "node-a"),
                          atA.dialed, !atB.dialed
                    else { return false }
                    return atA.channel.localAddress == atB.channel.remoteAddress
                        && atA.channel.remoteAddress == atB.channel.localAddress
                        && atA === a.collector.open.first && atB === b.collector.open.first
                }
                #expect(settled)
                let duplicates = a.collector.established.count - 1
                print("tie-break round \(round): \(duplicates) duplicate connection(s) closed on node-a, \(b.collector.established.count - 1) on node-b")

                // Kept: the connection dialed by the smaller node id.
                #expect(a.transport.connection(to: "node-b")?.dialed == true)
                #expect(b.transport.connection(to: "node-a")?.dialed == false)

                // The first messages made it, and new ones flow both ways on the kept connection.
                let value1 = await eventually { b.collector.calls.contains { $0.callID == 1 } }
                #expect(value1)
                let value2 = await eventually { a.collector.calls.contains { $0.callID == 2 } }
                #expect(value2)
                try a.send(Fixtures.call(3), to: b)
                try b.send(Fixtures.call(4), to: a)
                let value3 = await eventually { b.collector.calls.contains { $0.callID == 3 } }
                #expect(value3)
                let value4 = await eventually { a.collector.calls.contains { $0.callID == 4 } }
                #expect(value4)
                #expect(a.collector.open.count == 1 && b.collector.open.count == 1)
                #expect(a.collector.established.count == duplicates + 1, "a new connection was dialed after settling")
            }
        }
    }
}
