import Foundation
import MeridianTransport
import MeridianWire
import NIOCore
import Testing

extension Loopback {
    /// Two real transports on 127.0.0.1: who gets a connection, and who does not.
    @Suite("Handshake over TCP")
    struct HandshakeOverTCPTests {
        @Test("the handshake completes and an envelope sent with send(_:to:address:) arrives, both ways, on one connection")
        func delivery() async throws {
            try await TestCluster.run { cluster in
                let a = try await cluster.start("node-a", region: "eu-west")
                let b = try await cluster.start("node-b", region: "us-east")
                try a.send(Fixtures.call(1, tag: "hello from a"), to: b)
                let value1 = await eventually { b.collector.calls.map(\.callID) == [1] }
                #expect(value1)
                #expect(b.collector.calls.first?.recipientPath == "hello from a")

                let atB = try #require(b.transport.connection(to: "node-a"))
                let atA = try #require(a.transport.connection(to: "node-b"))
                #expect(atB.peer == PeerIdentity(node: "node-a", incarnation: 1, region: "eu-west", address: a.address))
                #expect(atA.peer == PeerIdentity(node: "node-b", incarnation: 1, region: "us-east", address: b.address))
                #expect(atA.dialed && !atB.dialed)

                // The answer travels on the same connection: nobody dials again.
                try b.send(Fixtures.call(2, tag: "hello from b"), to: a)
                let value2 = await eventually { a.collector.calls.map(\.callID) == [2] }
                #expect(value2)
                #expect(a.collector.established.count == 1 && b.collector.established.count == 1)
                #expect(a.transport.connections.count == 1 && b.transport.connections.count == 1)
                #expect(a.transport.errorCounters.snapshot == (0, 0, 0, 0))
                #expect(b.transport.errorCounters.snapshot == (0, 0, 0, 0))
            }
        }

        @Test("a wrong secret on either side: no connection on either side, and the acceptor counts an authentication failure",
              arguments: [true, false])
        func wrongSecret(dialerHasWrongSecret: Bool) async throws {
            try await TestCluster.run { cluster in
                let acceptor = try await cluster.start("acceptor", secret: dialerHasWrongSecret ? Fixtures.secret : Fixtures.otherSecret)
                let dialer = try await cluster.start("dialer", secret: dialerHasWrongSecret ? Fixtures.otherSecret : Fixtures.secret)
                try dialer.send(Fixtures.call(1), to: acceptor)
                let value3 = await eventually { acceptor.transport.errorCounters.snapshot.authenticationFailures >= 1 }
                #expect(value3)
                let value4 = await eventually { dialer.transport.errorCounters.snapshot.authenticationFailures >= 1 }
                #expect(value4)
                for node in [acceptor, dialer] {
                    #expect(node.collector.established.isEmpty, "\(node.name) established a connection")
                    #expect(node.transport.connections.isEmpty)
                    #expect(node.collector.calls.isEmpty)
                }
            }
        }

        @Test("a peer from another cluster gets no connection")
        func wrongCluster() async throws {
            try await TestCluster.run { cluster in
                let acceptor = try await cluster.start("acceptor")
                let stranger = try await cluster.start("stranger", cluster: "another-cluster")
                try stranger.send(Fixtures.call(1), to: acceptor)
                let value5 = await eventually { acceptor.transport.errorCounters.snapshot.authenticationFailures >= 1 }
                #expect(value5)
                let value6 = await eventually { stranger.transport.errorCounters.snapshot.authenticationFailures >= 1 }
                #expect(value6)
                #expect(acceptor.collector.established.isEmpty && stranger.collector.established.isEmpty)
            }
        }

        @Test("a dial whose handshake fails is given up and retried: later sends reach the node once it is there")
        func failedHandshakeDoesNotWedgeTheDial() async throws {
            try await TestCluster.run { cluster in
                var configuration = TestCluster.configuration
                configuration.handshakeTimeout = .seconds(1)  // short, but a real handshake on a loaded machine fits
                let a = try await cluster.start("node-a", configuration: configuration)
                // Something that accepts TCP but never answers the hello: the handshake times out.
                let (silent, port) = try await cluster.silentServer()
                try a.transport.send(Fixtures.call(1), to: "node-b", address: "127.0.0.1:\(port)")
                let value7 = await eventually { a.transport.errorCounters.snapshot.other >= 1 }
                #expect(value7)
                try await silent.close()

                // The real node-b now listens on that address.
                let b = try await cluster.start("node-b", port: port)
                let deadline = ContinuousClock.now + .seconds(30)
                var next: UInt64 = 2
                while b.collector.calls.isEmpty, ContinuousClock.now < deadline {
                    try? a.send(Fixtures.call(next), to: b)
                    next += 1
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(!b.collector.calls.isEmpty, "sends to \(b.address) stay queued behind the dial that failed its handshake")
            }
        }

        @Test("messages queued for a dial are sent even when the peer announces its address spelled differently")
        func dialedAddressDiffersFromAnnounced() async throws {
            try await TestCluster.run { cluster in
                let a = try await cluster.start("node-a")
                let b = try await cluster.start("node-b")
                // b announces 127.0.0.1:port; a was told localhost:port (e.g. a --seed argument).
                try a.transport.send(Fixtures.call(1), to: nil, address: "localhost:\(b.port)")
                let value8 = await eventually { b.collector.calls.map(\.callID) == [1] }
                #expect(value8)
            }
        }
    }
}
