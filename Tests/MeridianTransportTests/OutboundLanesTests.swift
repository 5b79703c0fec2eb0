import Foundation
import MeridianTransport
import MeridianWire
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

/// The two outbound lanes on an EmbeddedChannel whose writability the test controls.
@Suite("Outbound lanes")
struct OutboundLanesTests {
    static let fragmentSize = 64
    static let bulkWindow = 1 << 20

    /// An EmbeddedChannel with the lanes handler, plus a valve that makes the channel
    /// unwritable after a given number of writes (what a full socket buffer does).
    private func channel(budget: OutboundBudget) throws -> (EmbeddedChannel, WritabilityValve) {
        let channel = EmbeddedChannel()
        let valve = WritabilityValve()
        try channel.pipeline.syncOperations.addHandler(valve)
        try channel.pipeline.syncOperations.addHandler(OutboundLanesHandler(fragmentSize: Self.fragmentSize, bulkWindow: Self.bulkWindow, budget: budget))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7)).wait()
        return (channel, valve)
    }

    /// Frames `envelope` and reserves its bytes, as PeerConnection does.
    private func framed(_ envelope: Envelope, budget: OutboundBudget) throws -> ByteBuffer {
        let frame = try Fixtures.frame(envelope)
        #expect(budget.reserve(frame.readableBytes))
        return frame
    }

    /// Everything written, as the peer reads it (a fragment leaves as two buffers: its header
    /// and its chunk).
    private func written(_ channel: EmbeddedChannel) throws -> [Envelope] {
        var stream = ByteBuffer()
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            stream.writeBuffer(&buffer)
        }
        return try decodeFrames(stream)
    }

    /// Joins fragments with the real reassembler.
    private func reassemble(_ envelopes: [Envelope]) throws -> [Envelope] {
        let channel = EmbeddedChannel(handler: FragmentReassembler(maxMessageSize: 1 << 20, budget: OutboundBudget(limit: 1 << 20)))
        for envelope in envelopes { try channel.writeInbound(envelope) }
        var result: [Envelope] = []
        while let envelope = try channel.readInbound(as: Envelope.self) { result.append(envelope) }
        return result
    }

    @Test("a large envelope leaves as fragments of fragmentSize that reassemble to the same envelope")
    func fragmentsRoundTrip() throws {
        let budget = OutboundBudget(limit: 1 << 20)
        let (channel, _) = try channel(budget: budget)
        let large = Fixtures.call(1, tag: "large", arguments: Data((0..<1000).map { UInt8($0 % 253) }))
        channel.writeAndFlush(try framed(large, budget: budget), promise: nil)
        let out = try written(channel)
        #expect(out.count > 10)
        let value1 = out.allSatisfy { $0.fragment.chunk.count <= Self.fragmentSize }
        #expect(value1)
        let value2 = out.dropLast().allSatisfy { !$0.fragment.last }
        #expect(value2 && out.last?.fragment.last == true)
        #expect(try reassemble(out) == [large])
        #expect(try channel.finish().isClean)
    }

    @Test(
        "a fragment's hand-written header and its chunk decode as the fragment protobuf describes",
        arguments: [(UInt64(1), UInt64(0), false, 1), (300, 9_000_000, false, 127), (UInt64.max, 1, true, 128), (7, 0, true, 65_536)]
    )
    func fragmentHeaderIsTheProtobufEncoding(_ fields: (streamID: UInt64, totalSize: UInt64, last: Bool, chunkLength: Int)) throws {
        let chunk = ByteBuffer(bytes: (0..<fields.chunkLength).map { UInt8($0 % 251) })
        var frame = try EnvelopeCoding.fragmentHeader(
            streamID: fields.streamID, totalSize: fields.totalSize, last: fields.last, chunkLength: fields.chunkLength
        )
        frame.writeImmutableBuffer(chunk)
        var expected = Envelope()
        expected.fragment.streamID = fields.streamID
        expected.fragment.totalSize = fields.totalSize
        expected.fragment.last = fields.last
        expected.fragment.chunk = Data(chunk.readableBytesView)
        #expect(try decodeFrames(frame) == [expected])
        // The same fields as swift-protobuf writes them (in another order): the same length.
        let encoded = try EnvelopeCoding.frame(expected)
        #expect(frame.readableBytes == encoded.readableBytes)
    }

    @Test("nothing of a large envelope is written while the channel is not writable, and small frames go first")
    func bulkWaitsForWritability() throws {
        let budget = OutboundBudget(limit: 1 << 20)
        let (channel, _) = try channel(budget: budget)
        channel.isWritable = false
        let large = Fixtures.call(1, tag: "large", arguments: Data(repeating: 0xAA, count: 1000))
        channel.writeAndFlush(try framed(large, budget: budget), promise: nil)
        channel.writeAndFlush(try framed(Fixtures.call(2), budget: budget), promise: nil)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)

        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        let out = try written(channel)
        #expect(out.first?.call.callID == 2)
        let value3 = out.dropFirst().allSatisfy { $0.fragment.streamID != 0 }
        #expect(value3)
        #expect(try reassemble(Array(out.dropFirst())) == [large])
        #expect(try channel.finish().isClean)
    }

    @Test("a small frame sent while a large envelope is half-way out overtakes the rest of it")
    func smallOvertakesMidway() throws {
        let budget = OutboundBudget(limit: 1 << 20)
        let (channel, valve) = try channel(budget: budget)
        let large = Fixtures.call(1, tag: "large", arguments: Data(repeating: 0x55, count: 2000))
        valve.closeAfter(writes: 6)  // the "socket" takes three fragments (a header and a chunk each), then is full
        channel.writeAndFlush(try framed(large, budget: budget), promise: nil)
        let head = try written(channel)
        #expect(head.count == 3)
        let value4 = head.allSatisfy { $0.fragment.streamID != 0 && !$0.fragment.last }
        #expect(value4)

        // Both arrive while the channel is full: they wait, then go before the remaining fragments.
        channel.writeAndFlush(try framed(Fixtures.call(2), budget: budget), promise: nil)
        channel.writeAndFlush(try framed(Fixtures.call(3), budget: budget), promise: nil)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)

        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        let tail = try written(channel)
        #expect(tail.prefix(2).map(\.call.callID) == [2, 3])
        #expect(try reassemble(head + tail.dropFirst(2)) == [large])
        #expect(try channel.finish().isClean)
    }

    @Test("the bulk lane stops once bulkWindow bytes are unacknowledged, resumes on the peer's credit, and small frames never wait for it")
    func bulkWindowWaitsForCredit() throws {
        let budget = OutboundBudget(limit: 1 << 20)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(OutboundLanesHandler(fragmentSize: Self.fragmentSize, bulkWindow: 3 * Self.fragmentSize, budget: budget))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7)).wait()
        let large = Fixtures.call(1, tag: "large", arguments: Data((0..<1000).map { UInt8($0 % 241) }))
        channel.writeAndFlush(try framed(large, budget: budget), promise: nil)
        let head = try written(channel)
        #expect(head.map(\.fragment.chunk.count) == [Self.fragmentSize, Self.fragmentSize, Self.fragmentSize])

        channel.writeAndFlush(try framed(Fixtures.call(2), budget: budget), promise: nil)
        #expect(try written(channel).map(\.call.callID) == [2])

        // The peer consumed two fragments: two more may go.
        channel.pipeline.triggerUserOutboundEvent(BulkCreditGranted(bytes: 2 * Self.fragmentSize), promise: nil)
        let next = try written(channel)
        #expect(next.count == 2)
        var rest = head + next
        while !(rest.last?.fragment.last ?? true) {
            channel.pipeline.triggerUserOutboundEvent(BulkCreditGranted(bytes: Self.fragmentSize), promise: nil)
            let more = try written(channel)
            #expect(more.count == 1)
            if more.isEmpty { break }
            rest += more
        }
        #expect(try reassemble(rest) == [large])
        #expect(budget.pendingBytes == 0)
        #expect(try channel.finish().isClean)
    }

    @Test("the write promise of a large envelope completes when its last fragment is written")
    func promiseOfLargeEnvelope() throws {
        let budget = OutboundBudget(limit: 1 << 20)
        let (channel, _) = try channel(budget: budget)
        channel.isWritable = false
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(try framed(Fixtures.call(1, arguments: Data(repeating: 1, count: 500)), budget: budget), promise: promise)
        let done = Flag()
        promise.futureResult.whenSuccess { done.set() }
        #expect(!done.isSet)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(done.isSet)
        _ = try channel.finish()
    }
}

/// Makes its EmbeddedChannel unwritable after a set number of writes pass through it.
final class WritabilityValve: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    private var remaining: Int?

    func closeAfter(writes: Int) { remaining = writes }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        if let remaining {
            self.remaining = remaining - 1
            if remaining - 1 <= 0, let channel = context.channel as? EmbeddedChannel {
                self.remaining = nil
                channel.isWritable = false
            }
        }
    }
}

@available(*, unavailable)
extension WritabilityValve: Sendable {}
