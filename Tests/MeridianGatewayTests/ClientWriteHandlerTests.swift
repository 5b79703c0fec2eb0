import MeridianTransport
import MeridianWire
import NIOCore
import NIOEmbedded
import SwiftProtobuf
import Synchronization
import Testing

@testable import MeridianGateway

/// The outbox's writer on the event loop: what arrives is written at once as one flush, nothing
/// is written while the channel is not writable (deltas replace each other meanwhile), and
/// after the outbox closes, the last messages go out before the output closes.
@Suite("Gateway: writing a client's outbox")
struct ClientWriteHandlerTests {
    @Test func writesWhileWritableWaitsWhileNotAndEndsTheOutputAfterTheLast() throws {
        let channel = EmbeddedChannel()
        let outbox = ClientOutbox(reliableLimit: 8)
        let writer = ClientWriteHandler(outbox: outbox, eventLoop: channel.embeddedEventLoop)
        try channel.pipeline.syncOperations.addHandler(writer)

        outbox.send(RawClient.serverMessage(1))
        #expect(try Self.written(channel) == [1])

        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        outbox.send(RawClient.serverMessage(2))
        var delta = Meridian_Client_V1_ServerMessage()
        for tick in 1...3 {
            delta.delta.tick = UInt32(tick)
            outbox.offerDelta(delta)
        }
        #expect(try Self.written(channel) == [], "nothing is written while the channel is not writable")

        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        let frames = try Self.frames(channel)
        #expect(frames.map(\.requestID) == [2, 0], "the reliable message, then only the newest delta")
        #expect(frames.last?.delta.tick == 3)

        let ended = Flag()
        writer.written.whenSuccess { ended.set() }
        outbox.sendFinal(RawClient.serverMessage(9))
        #expect(try Self.written(channel) == [9])
        #expect(ended.isSet, "the output is closed right after the last message")
        _ = try? channel.finish()
    }

    final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    /// Every frame written so far, decoded.
    static func frames(_ channel: EmbeddedChannel) throws -> [Meridian_Client_V1_ServerMessage] {
        var decoder = FrameDecoder(maxFrameSize: 1 << 20)
        var messages: [Meridian_Client_V1_ServerMessage] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            while let frame = try decoder.decode(buffer: &buffer) {
                messages.append(try Meridian_Client_V1_ServerMessage(serializedBytes: Array(frame.readableBytesView)))
            }
        }
        return messages
    }

    static func written(_ channel: EmbeddedChannel) throws -> [UInt64] {
        try frames(channel).map(\.requestID)
    }
}
