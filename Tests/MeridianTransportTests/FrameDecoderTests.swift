import MeridianTransport
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

/// The length-prefixed framing on its own (no envelopes): 4-byte big-endian length, then the body.
@Suite("Framing")
struct FrameDecoderTests {
    private func channel(maxFrameSize: Int = 1024) -> EmbeddedChannel {
        EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameSize: maxFrameSize)))
    }

    @Test("a frame split across many reads is decoded exactly once, when its last byte arrives")
    func splitAcrossReads() throws {
        let channel = channel()
        let body = Array("a frame that arrives one byte at a time".utf8)
        let frame = Fixtures.frame(body)
        let bytes = Array(frame.readableBytesView)
        for (index, byte) in bytes.enumerated() {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            if index < bytes.count - 1 {
                #expect(try channel.readInbound(as: ByteBuffer.self) == nil, "decoded early, at byte \(index)")
            }
        }
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: body))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(try channel.finish().isClean)
    }

    @Test("several frames in one read come out as several messages, in order")
    func severalFramesInOneRead() throws {
        let channel = channel()
        let bodies: [[UInt8]] = [Array("first".utf8), [], Array("third, a little longer".utf8), [0, 1, 2, 3]]
        var all = ByteBuffer()
        for body in bodies {
            var frame = Fixtures.frame(body)
            all.writeBuffer(&frame)
        }
        // Plus the first half of one more frame, which must stay buffered.
        let pending = Fixtures.frame(Array("pending".utf8))
        all.writeBytes(pending.readableBytesView.prefix(6))
        try channel.writeInbound(all)
        for body in bodies {
            #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: body))
        }
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        try channel.writeInbound(ByteBuffer(bytes: pending.readableBytesView.dropFirst(6)))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "pending"))
        #expect(try channel.finish().isClean)
    }

    @Test("NIOTestUtils' ByteToMessageDecoderVerifier accepts FrameDecoder")
    func verifier() throws {
        let bodies: [[UInt8]] = [
            [],
            [0x42],
            Array("hello, cluster".utf8),
            Array(repeating: 0xAB, count: 1000),
            Array(repeating: 0x00, count: 1024),  // exactly the limit
        ]
        let pairs = bodies.map { body in (Fixtures.frame(body), [ByteBuffer(bytes: body)]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            FrameDecoder(maxFrameSize: 1024)
        }
    }

    @Test("a length prefix above maxFrameSize fails as soon as the prefix is read, without waiting for the body")
    func oversizedPrefixFailsImmediately() throws {
        let channel = channel(maxFrameSize: 1024)
        var prefix = ByteBuffer()
        prefix.writeInteger(UInt32(1025))
        // Only the 4 prefix bytes: a decoder that waited for the body would say nothing here.
        #expect {
            try channel.writeInbound(prefix)
        } throws: { TransportError.code(of: $0) == .frameTooLarge }
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        // The handler is now in its error state: further bytes are refused, never accumulated.
        #expect(throws: (any Error).self) {
            try channel.writeInbound(ByteBuffer(repeating: 0, count: 4096))
        }
        _ = try? channel.finish()
    }

    @Test("the decoder itself rejects a hostile prefix without consuming or keeping anything")
    func oversizedPrefixOnTheDecoder() throws {
        var decoder = FrameDecoder(maxFrameSize: 4 * 1024 * 1024)
        for hostile: UInt32 in [4 * 1024 * 1024 + 1, 0x7FFF_FFFF, .max] {
            var buffer = ByteBuffer()
            buffer.writeInteger(hostile)
            #expect {
                try decoder.decode(buffer: &buffer)
            } throws: { TransportError.code(of: $0) == .frameTooLarge }
            #expect(buffer.readerIndex == 0)
        }
        // Exactly the limit is allowed: the decoder waits for the body.
        var atLimit = ByteBuffer()
        atLimit.writeInteger(UInt32(4 * 1024 * 1024))
        #expect(try decoder.decode(buffer: &atLimit) == nil)
    }

    @Test("a truncated frame followed by EOF yields nothing and does not crash")
    func truncatedThenEOF() throws {
        let channel = channel()
        var partial = Fixtures.frame(Array(repeating: 7, count: 100))
        partial.moveWriterIndex(to: partial.writerIndex - 30)
        try channel.writeInbound(partial)
        // A lone partial length prefix too.
        try channel.writeInbound(ByteBuffer(bytes: [0, 0]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        channel.pipeline.fireChannelInactive()
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        // Whatever the handler reports about the leftovers, it is not a decoded frame.
        _ = try? channel.finish(acceptAlreadyClosed: true)
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
    }
}
