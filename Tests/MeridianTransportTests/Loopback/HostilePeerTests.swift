import Foundation
import MeridianTransport
import MeridianWire
import NIOCore
import Testing

extension Loopback {
    /// A raw TCP client misbehaving against a transport's listener: it is disconnected cleanly
    /// and the listener keeps serving proper peers.
    @Suite("Hostile peers")
    struct HostilePeerTests {
        /// A proper peer can still connect to `server` and deliver a message.
        private func expectStillServes(_ server: TestNode, _ cluster: TestCluster, name: String = "proper-peer") async throws {
            let peer = try await cluster.start(name)
            try peer.send(Fixtures.call(77, tag: "after the abuse"), to: server)
            let value1 = await eventually { server.collector.calls.contains { $0.callID == 77 } }
            #expect(value1, "the listener stopped serving")
        }

        private func rejectReasons(_ client: RawClient) -> [Meridian_Cluster_V1_Reject.Reason] {
            client.receivedEnvelopes().compactMap { if case .reject(let reject)? = $0.kind { reject.reason } else { nil } }
        }

        @Test("a garbage frame gets a protocolViolation Reject and a close")
        func garbageFrame() async throws {
            try await TestCluster.run { cluster in
                let server = try await cluster.start("server")
                let client = try await cluster.rawClient(port: server.port)
                await client.write(Fixtures.frame([0x07, 0xDE, 0xAD, 0xBE, 0xEF]))
                #expect(await client.closedByServer())
                #expect(rejectReasons(client) == [.protocolViolation])
                #expect(server.transport.errorCounters.snapshot.protocolViolations == 1)
                #expect(server.collector.established.isEmpty)
                try await expectStillServes(server, cluster)
            }
        }

        /// A server whose handshake timeout cannot close the connection in time, and a stranger
        /// that announces a frame of `length` bytes (and sends nothing more): only the length
        /// check can close it — with a frameTooLarge Reject, counted once.
        private func announceFrame(
            length: (TransportConfiguration) -> Int, in cluster: TestCluster
        ) async throws -> (server: TestNode, configuration: TransportConfiguration) {
            var configuration = TestCluster.configuration
            configuration.handshakeTimeout = .seconds(60)
            let server = try await cluster.start("server", configuration: configuration)
            let client = try await cluster.rawClient(port: server.port)
            var prefix = ByteBuffer()
            prefix.writeInteger(UInt32(length(configuration)))
            await client.write(prefix)
            #expect(await client.closedByServer())
            #expect(rejectReasons(client) == [.frameTooLarge])
            #expect(server.transport.errorCounters.snapshot.frameTooLarge == 1)
            return (server, configuration)
        }

        @Test("an oversized length prefix is refused at once, before any body is sent")
        func oversizedPrefix() async throws {
            try await TestCluster.run { cluster in
                let (server, _) = try await announceFrame(length: { $0.maxFrameSize + 1 }, in: cluster)
                try await expectStillServes(server, cluster)
            }
        }

        @Test("before the handshake a stranger may announce only a handshake-sized frame; after it, peers send full-sized frames")
        func handshakeFrameLimit() async throws {
            try await TestCluster.run { cluster in
                // Well below maxFrameSize, above what a handshake message may be.
                let (server, configuration) = try await announceFrame(length: { $0.maxHandshakeFrameSize + 1 }, in: cluster)
                #expect(configuration.maxHandshakeFrameSize + 1 < configuration.maxFrameSize)

                // An authenticated peer's frames may be up to maxFrameSize: a message larger
                // than the handshake limit and smaller than a fragment travels in one frame.
                let peer = try await cluster.start("proper-peer", configuration: configuration)
                let tag = String(repeating: "x", count: configuration.maxHandshakeFrameSize * 2)
                #expect(tag.utf8.count < configuration.fragmentSize)
                try peer.send(Fixtures.call(78, tag: tag), to: server)
                let delivered = await eventually { server.collector.calls.contains { $0.callID == 78 } }
                #expect(delivered, "a frame above the handshake limit after the handshake was not delivered")
                #expect(server.transport.errorCounters.snapshot.frameTooLarge == 1)
            }
        }

        @Test("a truncated frame followed by the client closing its side ends the connection, nothing else")
        func truncatedThenEOF() async throws {
            try await TestCluster.run { cluster in
                var configuration = TestCluster.configuration
                configuration.handshakeTimeout = .seconds(60)
                let server = try await cluster.start("server", configuration: configuration)
                let client = try await cluster.rawClient(port: server.port)
                var frame = try Fixtures.frame(Fixtures.call(1, arguments: Data(repeating: 1, count: 100)))
                frame.moveWriterIndex(to: frame.writerIndex - 40)
                await client.write(frame)
                try await client.channel.close(mode: .output)  // half-close: we can still see the server close
                #expect(await client.closedByServer())
                #expect(server.collector.established.isEmpty)
                try await expectStillServes(server, cluster)
            }
        }

        @Test("a flood of 10,000 small garbage frames is cut off cleanly and counted once")
        func flood() async throws {
            try await TestCluster.run { cluster in
                let server = try await cluster.start("server")
                let client = try await cluster.rawClient(port: server.port)
                var flood = ByteBuffer()
                for index in 0..<10_000 {
                    var frame = Fixtures.frame([0x07, UInt8(truncatingIfNeeded: index), 0xFF, 0xFF])
                    flood.writeBuffer(&frame)
                }
                await client.write(flood)
                #expect(await client.closedByServer())
                // Let any frames decoded after the close be processed before counting.
                try await expectStillServes(server, cluster)
                #expect(server.transport.errorCounters.snapshot.protocolViolations == 1)
            }
        }

        @Test("a client that connects and never speaks is closed by the handshake timeout")
        func silentClient() async throws {
            try await TestCluster.run { cluster in
                var configuration = TestCluster.configuration
                configuration.handshakeTimeout = .milliseconds(300)
                let server = try await cluster.start("server", configuration: configuration)
                let connectedAt = ContinuousClock.now
                let client = try await cluster.rawClient(port: server.port)
                #expect(await client.closedByServer())
                // The server's timer starts after our connect completes, so it cannot fire sooner.
                #expect(ContinuousClock.now - connectedAt >= .milliseconds(250))
                #expect(server.transport.errorCounters.snapshot.other >= 1)
                #expect(server.collector.established.isEmpty)
                try await expectStillServes(server, cluster)
            }
        }

        @Test("messages other than Hello before the handshake are refused at once, not processed",
              arguments: ["heartbeat", "fragment", "call"])
        func messageBeforeHandshake(kind: String) async throws {
            try await TestCluster.run { cluster in
                var configuration = TestCluster.configuration
                configuration.handshakeTimeout = .seconds(60)  // a close within the deadline is a refusal, not a timeout
                let server = try await cluster.start("server", configuration: configuration)
                let client = try await cluster.rawClient(port: server.port)
                var envelope = Envelope()
                switch kind {
                case "heartbeat":
                    envelope.heartbeat.sentAtNanos = 1
                case "fragment":
                    // Announces a 60 MiB message: nothing of it may be buffered for an unauthenticated peer.
                    envelope.fragment.streamID = 1
                    envelope.fragment.totalSize = 60 * 1024 * 1024
                    envelope.fragment.chunk = Data(repeating: 0, count: 16)
                default:
                    envelope = Fixtures.call(1)
                }
                await client.write(try Fixtures.frame(envelope))
                #expect(await client.closedByServer(within: .seconds(15)))
                // (The handshake handler and the connection's error handler may each send one.)
                let reasons = rejectReasons(client)
                let value2 = reasons.allSatisfy { $0 == .protocolViolation }
                #expect(!reasons.isEmpty && value2, "\(reasons)")
                let value3 = client.receivedEnvelopes().contains { if case .heartbeat? = $0.kind { true } else { false } }
                #expect(!value3)
                #expect(server.collector.established.isEmpty)
                try await expectStillServes(server, cluster)
            }
        }
    }
}
