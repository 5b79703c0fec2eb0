import Foundation
import SwiftProtobuf
import MeridianTransport
import MeridianWire
import NIOCore
import NIOEmbedded
import Testing

/// Inbound reassembly of Fragment envelopes, and its bounds.
@Suite("Fragment reassembly")
struct FragmentReassemblerTests {
    private func channel(maxMessageSize: Int = 4096, maxStreams: Int = 2) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FragmentReassembler(maxMessageSize: maxMessageSize, maxStreams: maxStreams, budget: OutboundBudget(limit: 1 << 20)))
        return channel
    }

    private func fragment(stream: UInt64, totalSize: UInt64 = 0, chunk: [UInt8], last: Bool = false) -> Envelope {
        var envelope = Envelope()
        envelope.fragment.streamID = stream
        envelope.fragment.totalSize = totalSize
        envelope.fragment.chunk = Data(chunk)
        envelope.fragment.last = last
        return envelope
    }

    /// `envelope`'s bytes cut into fragments of `size`, as a sender would.
    private func fragments(of envelope: Envelope, stream: UInt64, size: Int) throws -> [Envelope] {
        let bytes: [UInt8] = try envelope.serializedBytes()
        var result: [Envelope] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + size, bytes.count)
            result.append(fragment(
                stream: stream,
                totalSize: offset == 0 ? UInt64(bytes.count) : 0,
                chunk: Array(bytes[offset..<end]),
                last: end == bytes.count
            ))
            offset = end
        }
        return result
    }

    @Test("interleaved fragment streams are reassembled, and other envelopes pass straight through")
    func interleavedStreams() throws {
        let channel = try channel()
        let one = Fixtures.call(1, tag: "one", arguments: Data((0..<1000).map { UInt8($0 % 251) }))
        let two = Fixtures.call(2, tag: "two", arguments: Data(repeating: 9, count: 700))
        let a = try fragments(of: one, stream: 10, size: 128)
        let b = try fragments(of: two, stream: 11, size: 128)
        #expect(a.count > 2 && b.count > 2)
        var received: [Envelope] = []
        for index in 0..<max(a.count, b.count) {
            if index < a.count { try channel.writeInbound(a[index]) }
            if index == 1 { try channel.writeInbound(Fixtures.call(3, tag: "small")) }
            if index < b.count { try channel.writeInbound(b[index]) }
            while let envelope = try channel.readInbound(as: Envelope.self) { received.append(envelope) }
        }
        #expect(received.map(\.call.callID) == [3, 2, 1])
        let value1 = received.first { $0.call.callID == 1 }
        #expect(value1 == one)
        let value2 = received.first { $0.call.callID == 2 }
        #expect(value2 == two)
        // Every chunk byte consumed was granted back to the sender as bulk credit, one credit
        // per read (each writeInbound is one read here), nothing for the small call.
        var credits: [UInt64] = []
        while let frame = try channel.readOutbound(as: ByteBuffer.self) {
            credits += try decodeFrames(frame).map(\.bulkCredit.bytes)
        }
        let chunkBytes = (a + b).reduce(0) { $0 + $1.fragment.chunk.count }
        #expect(credits.reduce(0, +) == UInt64(chunkBytes))
        #expect(credits.count == a.count + b.count)
        #expect(try channel.finish().isClean)
    }

    @Test("a credit from the peer reaches the outbound lanes as BulkCreditGranted, and goes no further inbound")
    func peerCreditBecomesAnOutboundEvent() throws {
        let channel = EmbeddedChannel()
        let events = CreditRecorder()
        try channel.pipeline.syncOperations.addHandler(events)
        try channel.pipeline.syncOperations.addHandler(FragmentReassembler(maxMessageSize: 4096, budget: OutboundBudget(limit: 1 << 20)))
        var credit = Envelope()
        credit.bulkCredit.bytes = 65_536
        try channel.writeInbound(credit)
        #expect(events.granted == [65_536])
        #expect(try channel.readInbound(as: Envelope.self) == nil)
        #expect(try channel.finish().isClean)
    }

    @Test("a stream announcing more than maxMessageSize is refused on its first fragment")
    func announcedTooLarge() throws {
        let channel = try channel(maxMessageSize: 4096)
        #expect {
            try channel.writeInbound(fragment(stream: 1, totalSize: 4097, chunk: [1, 2, 3]))
        } throws: { TransportError.code(of: $0) == .protocolViolation }
        // Also a hostile size that would not even fit in memory.
        let other = try self.channel(maxMessageSize: 4096)
        #expect {
            try other.writeInbound(fragment(stream: 1, totalSize: .max, chunk: [1]))
        } throws: { TransportError.code(of: $0) == .protocolViolation }
        // A stream that announces no size at all (its first fragment is missing) is refused too.
        let headless = try self.channel()
        #expect {
            try headless.writeInbound(fragment(stream: 5, chunk: [1, 2, 3]))
        } throws: { TransportError.code(of: $0) == .protocolViolation }
    }

    @Test("a stream's buffer grows with the chunks that arrived, not to the size its first fragment announces")
    func bufferGrowsWithData() throws {
        let reassembler = FragmentReassembler(maxMessageSize: 64 << 20, budget: OutboundBudget(limit: 1 << 20))
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(reassembler)
        // Announces 64 MiB, sends 3 bytes.
        try channel.writeInbound(fragment(stream: 1, totalSize: 64 << 20, chunk: [1, 2, 3]))
        #expect(reassembler.reservedBytes < 1 << 16, "reserved \(reassembler.reservedBytes) bytes for 3 that arrived")
        // It grows as chunks arrive, and the message is whole at the end.
        var whole = Envelope()
        whole.call.callID = 9
        whole.call.arguments = Data(repeating: 7, count: 300_000)
        let parts = try fragments(of: whole, stream: 2, size: 64 * 1024)
        for part in parts.dropLast() { try channel.writeInbound(part) }
        #expect(reassembler.reservedBytes < 2 * 300_000 + (1 << 16))
        try channel.writeInbound(parts.last!)
        #expect(try channel.readInbound(as: Envelope.self) == whole)
    }

    @Test("more than maxStreams concurrent streams are refused")
    func tooManyStreams() throws {
        let channel = try channel(maxStreams: 2)
        try channel.writeInbound(fragment(stream: 1, totalSize: 100, chunk: [1]))
        try channel.writeInbound(fragment(stream: 2, totalSize: 100, chunk: [2]))
        #expect {
            try channel.writeInbound(fragment(stream: 3, totalSize: 100, chunk: [3]))
        } throws: { TransportError.code(of: $0) == .protocolViolation }

        // Streams that finished free their slot.
        let reusing = try self.channel(maxStreams: 2)
        for stream: UInt64 in 1...10 {
            for piece in try fragments(of: Fixtures.call(stream, arguments: Data(repeating: 1, count: 300)), stream: stream, size: 100) {
                try reusing.writeInbound(piece)
            }
            #expect(try reusing.readInbound(as: Envelope.self)?.call.callID == stream)
        }
    }

    @Test("chunks beyond the announced size are refused, and so is a stream that ends short")
    func chunksExceedAnnouncedSize() throws {
        let channel = try channel()
        try channel.writeInbound(fragment(stream: 1, totalSize: 10, chunk: Array(repeating: 0, count: 6)))
        #expect {
            try channel.writeInbound(fragment(stream: 1, chunk: Array(repeating: 0, count: 5), last: true))
        } throws: { TransportError.code(of: $0) == .protocolViolation }

        let short = try self.channel()
        try short.writeInbound(fragment(stream: 1, totalSize: 10, chunk: Array(repeating: 0, count: 6)))
        #expect {
            try short.writeInbound(fragment(stream: 1, chunk: [0, 0], last: true))
        } throws: { TransportError.code(of: $0) == .protocolViolation }
    }

    @Test("reassembled bytes that are not an envelope are a protocol violation")
    func garbageInside() throws {
        let channel = try channel()
        try channel.writeInbound(fragment(stream: 1, totalSize: 4, chunk: [0x07, 0xFF]))
        #expect {
            try channel.writeInbound(fragment(stream: 1, chunk: [0xFF, 0xFF], last: true))
        } throws: { TransportError.code(of: $0) == .protocolViolation }
    }
}

/// Records the ``BulkCreditGranted`` events that travel outbound past it.
private final class CreditRecorder: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var granted: [Int] = []

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let credit = event as? BulkCreditGranted { granted.append(credit.bytes) }
        context.triggerUserOutboundEvent(event, promise: promise)
    }
}

@available(*, unavailable)
extension CreditRecorder: Sendable {}
