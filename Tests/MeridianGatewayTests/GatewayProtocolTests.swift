import Foundation
@testable import MeridianGateway
import MeridianTestSupport
import MeridianTransport
import MeridianWire
import SwiftProtobuf
import NIOCore
import NIOPosix
import MeridianTestScope
import Testing

@Suite("Gateway: protocol and bad input", .serialized)
struct GatewayProtocolTests {
    static func gatewayAddress(_ cluster: GameTestCluster, _ node: String) throws -> String {
        try #require(cluster.node(node)?.gateway?.address)
    }

    @Test func helloLoginPingLocate() async throws {
        try await GameTestCluster.with(gateways: true) { cluster in
            try await withScoped({ try await RawClient.connect(try Self.gatewayAddress(cluster, "eu-west-1")) }, teardown: { await $0.close() }) { client in
                // An account homed in us-east (created there), logging in at an eu-west gateway.
                let player = try await cluster.createAccount(home: "us-east")
                let login = try await client.logIn(player)
                #expect(login.playerID == player.uuidString.lowercased())
                #expect(login.homeRegion == "us-east")
                #expect(!login.token.isEmpty)
                #expect(login.session.state == "idle")

                try await client.send(RawClient.message(7) { $0.ping.clientTimeUs = 42 })
                let pongFound = try await client.next(where: { $0.requestID == 7 })
                let pong = try #require(pongFound)
                #expect(pong.pong.clientTimeUs == 42)

                try await client.send(RawClient.message(8) { $0.locate = .init() })
                let regionsFound = try await client.next(where: { $0.requestID == 8 })
                let regions = try #require(regionsFound).regions.regions
                #expect(Set(regions.map(\.region)) == ["eu-west", "us-east"])
                let value3 = regions.allSatisfy { $0.gateways.count == 2 }
                #expect(value3)

                // The player's data lives in us-east, reached from an eu-west gateway.
                try await client.send(RawClient.message(9) { $0.getProfile = .init() })
                let profileFound = try await client.next(where: { $0.requestID == 9 })
                let profile = try #require(profileFound).profile
                #expect(profile.homeRegion == "us-east")
                #expect(profile.rating == 1500)
            }
        }
    }

    enum BadInput: String, CaseIterable, Sendable {
        case garbage, oversizedFrame, wrongVersion, noHello, tooManyInputs, flood
    }

    /// Each kind of bad input gets an Error frame with the right code and a closed connection —
    /// and a well-behaved client on the same gateway is not affected.
    @Test(arguments: BadInput.allCases)
    func badInputClosesOnlyThatConnection(_ input: BadInput) async throws {
        var configuration = GatewayConfiguration()
        configuration.messagesPerSecond = 50
        configuration.messageBurst = 100
        try await GameTestCluster.with(gateways: true, gatewayConfiguration: configuration) { cluster in
            let address = try Self.gatewayAddress(cluster, "eu-west-1")
            let good = try await RawClient.connect(address)
            _ = try await good.logIn(UUID())

            let bad = try await RawClient.connect(address)
            let expected: Meridian_Client_V1_Error.Code
            switch input {
            case .garbage:
                try await bad.sendRaw([0, 0, 0, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
                expected = .malformed
            case .oversizedFrame:
                try await bad.sendRaw([0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3])
                expected = .frameTooLarge
            case .wrongVersion:
                try await bad.send(RawClient.message(1) { $0.hello.protocolVersion = 99 })
                expected = .unsupportedVersion
            case .noHello:
                try await bad.send(RawClient.message(1) { $0.ping.clientTimeUs = 1 })
                expected = .malformed
            case .tooManyInputs:
                _ = try await bad.logIn(UUID())
                try await bad.send(RawClient.message { $0.inputs.inputs = Array(repeating: .init(), count: 9) })
                expected = .malformed
            case .flood:
                try await bad.send(RawClient.message(1) { $0.hello.protocolVersion = 1 })
                for index in 0..<400 {
                    // The gateway closes the connection part-way through the flood.
                    do { try await bad.send(RawClient.message(UInt64(index + 2)) { $0.ping.clientTimeUs = 1 }) } catch { break }
                }
                expected = .rateLimited
            }
            let messages = try await bad.drainUntilClosed()
            let errors = messages.compactMap { message -> Meridian_Client_V1_Error? in
                if case .error(let error)? = message.body { return error }
                return nil
            }
            #expect(errors.last?.code == expected, "\(input): \(errors)")
            #expect(!(errors.last?.message.isEmpty ?? true))

            // The other client still works.
            try await good.send(RawClient.message(99) { $0.ping.clientTimeUs = 5 })
            let clientTimeUs5 = try await good.next(where: { $0.requestID == 99 })?.pong.clientTimeUs
            #expect(clientTimeUs5 == 5)
            let counters = try #require(cluster.node("eu-west-1")?.gateway?.counters)
            #expect(counters.refusedConnections.values.reduce(0, +) >= 1)
            await good.close()
        }
    }

    /// A client that never reads: its replies pile up in the socket, then in its bounded outbox,
    /// and it is cut off with TOO_SLOW — the gateway's memory for it stays bounded and another
    /// client on the same gateway keeps its round trips.
    @Test func aClientThatStopsReadingIsDisconnectedAndOthersAreUnaffected() async throws {
        var configuration = GatewayConfiguration()
        configuration.messagesPerSecond = 1_000_000
        configuration.messageBurst = 1_000_000
        configuration.reliableQueueLimit = 64
        try await GameTestCluster.with(gateways: true, gatewayConfiguration: configuration) { cluster in
            let gateway = try #require(cluster.node("eu-west-1")?.gateway)
            let good = try await RawClient.connect(gateway.address)
            _ = try await good.logIn(UUID())

            // A socket that never reads (auto-read off), sending Hello, a login and then Locate
            // requests — each reply ~200 bytes — far beyond what the socket buffers hold.
            let parts = gateway.address.split(separator: ":")
            let slow = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.autoRead, value: false)
                .connect(host: String(parts[0]), port: Int(parts[1])!).get()
            var buffer = slow.allocator.buffer(capacity: 1 << 16)
            try buffer.writeFrame(RawClient.message(1) { $0.hello.protocolVersion = 1 })
            try buffer.writeFrame(RawClient.message(2) {
                $0.devLogin.playerID = UUID().uuidString
                $0.devLogin.displayName = "slow"
            })
            try await slow.writeAndFlush(buffer).get()
            var sent = 0
            while sent < 200_000, gateway.counters.refusedConnections["tooSlow"] == nil {
                var batch = slow.allocator.buffer(capacity: 1 << 16)
                for _ in 0..<1000 {
                    sent += 1
                    try batch.writeFrame(RawClient.message(UInt64(sent + 2)) { $0.locate = Meridian_Client_V1_Locate() })
                }
                do { try await slow.writeAndFlush(batch).get() } catch { break }  // closed by the gateway
                try await Task.sleep(for: .milliseconds(5))
            }
            try await cluster.eventually("the gateway cut the reader off as too slow") {
                gateway.counters.refusedConnections["tooSlow"] == 1
            }
            try await cluster.eventually("and closed its connection") { gateway.counters.connections == 1 }

            try await good.send(RawClient.message(99) { $0.ping.clientTimeUs = 7 })
            let clientTimeUs6 = try await good.next(where: { $0.requestID == 99 })?.pong.clientTimeUs
            #expect(clientTimeUs6 == 7)
            try? await slow.close()
            await good.close()
        }
    }

    /// A truncated frame (the client stops halfway) leaves nothing behind but a closed connection.
    @Test func truncatedFrameThenCloseIsHarmless() async throws {
        try await GameTestCluster.with(gateways: true) { cluster in
            let gateway = try #require(cluster.node("eu-west-1")?.gateway)
            for _ in 0..<20 {
                let client = try await RawClient.connect(gateway.address)
                try await client.sendRaw([0, 0, 1, 0, 1, 2, 3])
                await client.close()
            }
            try await cluster.eventually("every truncated connection was accepted and is gone") {
                gateway.counters.accepted == 20 && gateway.counters.connections == 0
            }
        }
    }

    /// An access token from a login on one gateway resumes on any other (verified with the
    /// replicated key set, no round trip); a forged or garbage one is refused.
    @Test func tokensResumeOnAnyGatewayAndForgeriesAreRefused() async throws {
        try await GameTestCluster.with(gateways: true) { cluster in
            let player = UUID()
            let first = try await RawClient.connect(try Self.gatewayAddress(cluster, "eu-west-1"))
            let login = try await first.logIn(player)
            await first.close()
            try await withScoped({ try await RawClient.connect(try Self.gatewayAddress(cluster, "us-east-2")) }, teardown: { await $0.close() }) { second in
                try await second.send(RawClient.message(1) { $0.hello.protocolVersion = 1 })
                let parts = login.token.split(separator: ".").map(String.init)
                let forged = [parts[0], parts[1], String(parts[2].reversed())].joined(separator: ".")
                for (id, token) in [(2, "m1.garbage.garbage"), (3, forged), (4, String(repeating: "x", count: 5000))] {
                    try await second.send(RawClient.message(UInt64(id)) { $0.resume.token = token })
                    let refusedFound = try await second.next(where: { $0.requestID == UInt64(id) })
                    let refused = try #require(refusedFound)
                    #expect(refused.error.code == .badToken)
                }
                try await second.send(RawClient.message(5) { $0.resume.token = login.token })
                let resumedFound = try await second.next(where: { $0.requestID == 5 })
                let resumed = try #require(resumedFound)
                #expect(resumed.login.playerID == player.uuidString.lowercased())
                #expect(resumed.login.homeRegion == "eu-west")
            }
        }
    }

    /// The outbound policy: reliable messages queue up to the bound (then the client is too
    /// slow); a newer delta replaces an unsent one.
    @Test func outboxKeepsReliableMessagesAndOnlyTheLatestDelta() async throws {
        let outbox = ClientOutbox(reliableLimit: 3)
        var delta = Meridian_Client_V1_ServerMessage()
        for tick in 1...5 {
            delta.delta.tick = UInt32(tick)
            outbox.offerDelta(delta)
        }
        for id in 1...3 {
            let accepted = outbox.send(RawClient.serverMessage(UInt64(id)))
            #expect(accepted)
        }
        let overflowed = outbox.send(RawClient.serverMessage(4))
        #expect(!overflowed)
        #expect(outbox.isOverflowing)
        guard case .write(let frames, last: false) = outbox.drain() else {
            Issue.record("the outbox had nothing to write")
            return
        }
        let batch = try Self.messages(in: frames)
        #expect(batch.map(\.requestID) == [1, 2, 3, 0])
        #expect(batch.last?.delta.tick == 5)
        #expect(outbox.droppedDeltas == 4)
        #expect(outbox.drain() == .idle)
        outbox.close()
        #expect(outbox.drain() == .finished)
    }

    /// The bound is in bytes too: a client that does not read cannot make the gateway hold more
    /// than the byte limit, however few the messages; the final error still goes out past it.
    @Test func outboxIsBoundedInBytes() throws {
        let outbox = ClientOutbox(reliableLimit: 1000, reliableByteLimit: 4096)
        var large = Meridian_Client_V1_ServerMessage()
        large.error.message = String(repeating: "x", count: 1500)
        var accepted = 0
        while outbox.send(large) { accepted += 1 }
        #expect(accepted == 2, "two 1.5 KB frames fit in 4 KiB, a third does not")
        #expect(outbox.isOverflowing)
        var final = Meridian_Client_V1_ServerMessage()
        final.error.code = .tooSlow
        outbox.sendFinal(final)
        guard case .write(let frames, last: true) = outbox.drain() else {
            Issue.record("the outbox had nothing to write")
            return
        }
        let written = try Self.messages(in: frames)
        #expect(written.map(\.error.code) == [.unknown, .unknown, .tooSlow])
    }

    /// The messages in a buffer of length-prefixed frames.
    static func messages(in frames: ByteBuffer) throws -> [Meridian_Client_V1_ServerMessage] {
        var frames = frames
        var messages: [Meridian_Client_V1_ServerMessage] = []
        while let length = frames.readInteger(as: UInt32.self) {
            let slice = frames.readSlice(length: Int(length))
            let payload = try #require(slice)
            messages.append(try Meridian_Client_V1_ServerMessage(serializedBytes: Array(payload.readableBytesView)))
        }
        return messages
    }
}

extension RawClient {
    static func serverMessage(_ id: UInt64) -> Meridian_Client_V1_ServerMessage {
        var message = Meridian_Client_V1_ServerMessage()
        message.requestID = id
        message.pong.clientTimeUs = id
        return message
    }
}
