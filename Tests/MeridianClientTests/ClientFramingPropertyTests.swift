import Foundation
import MeridianClient
import MeridianTransport
import MeridianWire
import NIOCore
import PropertyBased
import Testing

/// The client protocol's framing on generated messages: frames cut anyhow by TCP come back as
/// the messages that were framed; arbitrary payloads fail with a typed error or re-encode.
@Suite("Client framing properties")
struct ClientFramingPropertyTests {
    /// Server messages of a few kinds, with generated fields.
    static let serverMessages = zip(
        Gen.uint64(in: 0...UInt64.max), Gen.int(in: 0...3), Gen.latin1.string(of: 0...40), Gen.uint32(in: 0...UInt32.max)
    ).map { id, kind, text, number in
        var message = ServerMessage()
        message.requestID = id
        switch kind {
        case 0:
            message.error.code = Meridian_Client_V1_Error.Code(rawValue: Int(number % 17)) ?? .unknown
            message.error.message = text
        case 1:
            message.pong.clientTimeUs = UInt64(number)
            message.pong.serverTimeUs = id
        case 2:
            message.welcome.protocolVersion = number
            message.welcome.node = text
        default:
            message.queueStatus.queued = number % 2 == 0
            message.queueStatus.reason = text
        }
        return message
    }

    @Test("framed server messages come back through the frame decoder, however the stream is cut")
    func roundTrip() async {
        await propertyCheck(input: Self.serverMessages.array(of: 1...5), Gen.int(in: 1...64)) { messages, readSize in
            var stream = ByteBuffer()
            for message in messages { stream.writeImmutableBuffer(try ClientFraming.frame(message)) }
            var decoder = FrameDecoder(maxFrameSize: 8 * 1024)
            var pending = ByteBuffer()
            var decoded: [ServerMessage] = []
            while stream.readableBytes > 0, var read = stream.readSlice(length: min(readSize, stream.readableBytes)) {
                pending.writeBuffer(&read)
                while let payload = try decoder.decode(buffer: &pending) {
                    decoded.append(try ClientFraming.decodeServerMessage(payload))
                }
            }
            #expect(decoded == messages)
        }
    }

    @Test("an arbitrary payload is a MeridianClientError or a message that re-encodes to itself")
    func arbitraryPayloads() async {
        await propertyCheck(count: 500, input: Gen.uint8(in: 0...255).array(of: 0...80)) { bytes in
            let message: ServerMessage
            do {
                message = try ClientFraming.decodeServerMessage(ByteBuffer(bytes: bytes))
            } catch {
                return  // typed: MeridianClientError
            }
            var frame = try ClientFraming.frame(message)
            frame.moveReaderIndex(forwardBy: 4)
            let again = try ClientFraming.decodeServerMessage(frame)
            #expect(again == message)
        }
    }
}
