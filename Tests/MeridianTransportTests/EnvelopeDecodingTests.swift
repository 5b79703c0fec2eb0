import Foundation
import MeridianTransport
import MeridianWire
import NIOCore
import NIOEmbedded
import Testing

/// Frame payload -> Envelope: anything that is not a known envelope is a protocol violation.
@Suite("Envelope decoding")
struct EnvelopeDecodingTests {
    private func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameSize: 1024)))
        try channel.pipeline.syncOperations.addHandler(EnvelopeDecoderHandler())
        return channel
    }

    @Test("a valid framed envelope decodes to the same envelope")
    func roundTrip() throws {
        let channel = try channel()
        let sent = Fixtures.call(42, tag: "/shard/eu-west/7", arguments: Data([1, 2, 3]))
        try channel.writeInbound(try Fixtures.frame(sent))
        #expect(try channel.readInbound(as: Envelope.self) == sent)
        #expect(try channel.finish().isClean)
    }

    @Test("a call or a reply framed with its bytes appended decodes as swift-protobuf's own encoding", arguments: [0, 1, 127, 300, 70_000])
    func appendedBytesField(_ size: Int) throws {
        let bytes = (0..<size).map { UInt8($0 % 249) }
        var call = Meridian_Cluster_V1_Call()
        call.callID = 7
        call.recipientPath = "/shard/eu-west/7"
        call.targetName = "$s4main5ShardC4moveyyF"
        call.timeoutMs = 5000
        var expected = Envelope()
        expected.call = call
        expected.call.arguments = Data(bytes)
        let framed = try EnvelopeCoding.frame(kind: 10, call, appending: bytes, asField: .plain(7))
        #expect(try decodeFrames(framed) == [expected])
        // The same bytes but in another order: the arguments come last, after fields numbered above them.
        #expect(framed.readableBytes == (try EnvelopeCoding.frame(expected)).readableBytes)

        var reply = Meridian_Cluster_V1_Reply()
        reply.callID = 9
        var expectedReply = Envelope()
        expectedReply.reply = reply
        expectedReply.reply.value = Data(bytes)  // set even when empty: the outcome is a value
        let replyFrame = try EnvelopeCoding.frame(kind: 11, reply, appending: bytes, asField: .oneofMember(2))
        #expect(try decodeFrames(replyFrame) == [expectedReply])
        #expect(replyFrame == (try EnvelopeCoding.frame(expectedReply)))
    }

    @Test("garbage that happens to form a small frame is a protocolViolation from EnvelopeDecoderHandler")
    func garbageFrame() throws {
        var random = SplitMix64(seed: 0x6D65_7269_6469_616E)
        for _ in 0..<50 {
            let channel = try channel()
            // First byte 0x07: field number 0 with wire type 7, which no protobuf parser accepts.
            let garbage = [0x07] + (0..<Int.random(in: 1...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            #expect {
                try channel.writeInbound(Fixtures.frame(garbage))
            } throws: { TransportError.code(of: $0) == .protocolViolation }
            #expect(try channel.readInbound(as: Envelope.self) == nil)
            _ = try? channel.finish()
        }
    }

    @Test("random payloads never crash the decoder: each is an envelope of a known kind or a protocolViolation")
    func randomPayloads() throws {
        var random = SplitMix64(seed: 2024)
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            do {
                let envelope = try EnvelopeCoding.decode(ByteBuffer(bytes: bytes))
                #expect(envelope.kind != nil)
            } catch {
                #expect(TransportError.code(of: error) == .protocolViolation)
            }
        }
    }

    @Test("an empty frame and an envelope of an unknown kind are protocol violations")
    func unknownKind() throws {
        #expect {
            try EnvelopeCoding.decode(ByteBuffer())
        } throws: { TransportError.code(of: $0) == .protocolViolation }
        // Field 99, varint 1: well-formed protobuf, but no kind this version knows.
        #expect {
            try EnvelopeCoding.decode(ByteBuffer(bytes: [0x98, 0x06, 0x01]))
        } throws: { TransportError.code(of: $0) == .protocolViolation }
    }
}
