import Foundation
import MeridianClient
import MeridianTransport
import MeridianWire
import NIOCore
import NIOPosix
import MeridianTestScope
import Testing

@Suite("Client framing")
struct FramingTests {
    @Test func clientFramesRoundTripThroughTheFrameDecoder() throws {
        var message = ClientMessage()
        message.requestID = 7
        var login = Meridian_Client_V1_DevLogin()
        login.playerID = "4b9c…"
        login.displayName = "Zoë"
        message.body = .devLogin(login)
        var second = ClientMessage()
        second.requestID = 8
        second.body = .locate(Meridian_Client_V1_Locate())

        var stream = try ClientFraming.frame(message)
        var secondFrame = try ClientFraming.frame(second)
        #expect(stream.getInteger(at: 0, as: UInt32.self) == UInt32(stream.readableBytes - 4))
        stream.writeBuffer(&secondFrame)

        var decoder = FrameDecoder(maxFrameSize: 1024)
        // Byte by byte, as TCP may deliver it.
        var pending = ByteBuffer()
        var decoded: [ClientMessage] = []
        while let byte = stream.readInteger(as: UInt8.self) {
            pending.writeInteger(byte)
            while let frame = try decoder.decode(buffer: &pending) {
                decoded.append(try ClientFraming.decodeClientMessage(frame))
            }
        }
        #expect(decoded == [message, second])
    }

    @Test func serverFramesRoundTrip() throws {
        var message = ServerMessage()
        message.requestID = 0
        var delta = Meridian_Client_V1_StateDelta()
        delta.matchID = "m"
        delta.packet = .init([1, 2, 3])
        message.body = .delta(delta)
        var frame = try ClientFraming.frame(message)
        var decoder = FrameDecoder(maxFrameSize: 1024)
        let payload = try #require(try decoder.decode(buffer: &frame))
        #expect(try ClientFraming.decodeServerMessage(payload) == message)
    }

    @Test func garbageIsMalformed() {
        #expect(throws: MeridianClientError.self) {
            _ = try ClientFraming.decodeServerMessage(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF]))
        }
    }

    @Test func anOversizedInboundFrameClosesTheConnection() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        try await withScoped({ try await FakeGateway.start(group: group) { request, peer in
            if case .hello = request.body {
                var buffer = ByteBuffer()
                buffer.writeInteger(UInt32(10 << 20))
                buffer.writeBytes([1, 2, 3, 4])
                peer.sendRaw(buffer)
            }
        } }, teardown: { await $0.stop() }) { gateway in
            let configuration = GameClient.Configuration(connection: ClientConnectionConfiguration(maxInboundFrameBytes: 1024))
            let client = GameClient(group: group, configuration: configuration, logger: testLogger())
            let recorder = EventRecorder(client.events)
            try await client.connect(host: "127.0.0.1", port: gateway.port)
            do {
                try await client.hello()
                Issue.record("hello should fail")
            } catch let error as MeridianClientError {
                #expect(error.code == .frameTooLarge)
            }
            let event = await recorder.first { if case .disconnected = $0 { true } else { false } }
            guard case .disconnected(let reason) = event else {
                Issue.record("no disconnected event")
                return
            }
            #expect(reason.code == .frameTooLarge)
            await client.finish()
        }
    }
}
