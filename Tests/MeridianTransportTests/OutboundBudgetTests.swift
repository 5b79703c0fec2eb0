import Foundation
import MeridianTransport
import MeridianWire
import NIOCore
import NIOEmbedded
import Testing

/// Bounded outbound memory: OutboundBudget itself, and PeerConnection refusing sends with
/// `.overloaded` when a peer cannot keep up.
@Suite("Outbound budget")
struct OutboundBudgetTests {
    @Test("reserve succeeds up to the limit, fails beyond it without reserving, and release gives bytes back")
    func reserveAndRelease() {
        let budget = OutboundBudget(limit: 100)
        #expect(budget.reserve(60))
        #expect(!budget.reserve(50))
        #expect(budget.pendingBytes == 60)
        #expect(budget.reserve(40))
        #expect(budget.pendingBytes == 100)
        #expect(!budget.reserve(1))
        budget.release(100)
        #expect(budget.pendingBytes == 0)
    }

    @Test("a single message larger than the limit still goes when nothing else is pending")
    func oversizedWhenIdle() {
        let budget = OutboundBudget(limit: 100)
        #expect(budget.reserve(150))
        #expect(!budget.reserve(1))
        budget.release(150)
        #expect(budget.reserve(1))
    }

    @Test("forced control frames are counted even beyond the limit")
    func force() {
        let budget = OutboundBudget(limit: 10)
        #expect(budget.reserve(10))
        budget.force(20)
        #expect(budget.pendingBytes == 30)
        #expect(!budget.reserve(1))
        budget.release(30)
        #expect(budget.pendingBytes == 0)
    }

    @Test("concurrent reserves never let more than the limit through")
    func concurrentReserves() async {
        let budget = OutboundBudget(limit: 1000)
        let granted = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var granted = 0
                    for _ in 0..<1000 where budget.reserve(7) { granted += 7 }
                    return granted
                }
            }
            return await group.reduce(0, +)
        }
        #expect(granted <= 1000)
        #expect(granted == budget.pendingBytes)
    }

    // MARK: - PeerConnection

    private func connection(limit: Int, fragmentSize: Int = 1024) throws -> (EmbeddedChannel, PeerConnection, WriteCounter) {
        let channel = EmbeddedChannel()
        let budget = OutboundBudget(limit: limit)
        let counter = WriteCounter()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(OutboundLanesHandler(fragmentSize: fragmentSize, bulkWindow: .max, budget: budget))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7)).wait()
        let connection = PeerConnection(peer: Fixtures.identity("peer"), dialed: true, channel: channel, budget: budget)
        return (channel, connection, counter)
    }

    @Test("PeerConnection.send throws .overloaded once maxPendingOutboundBytes wait for an unwritable channel")
    func overloadedWhenNotWritable() throws {
        let (channel, connection, _) = try connection(limit: 500)
        channel.isWritable = false
        var accepted = 0
        var refusal: (any Error)?
        for id in 0..<1000 {
            do {
                try connection.send(Fixtures.call(UInt64(id)))
                accepted += 1
                channel.embeddedEventLoop.run()
            } catch {
                refusal = error
                break
            }
        }
        #expect(TransportError.code(of: refusal ?? CancellationError()) == .overloaded)
        #expect(accepted > 0)
        #expect(connection.budget.pendingBytes <= 500)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)

        // The peer catches up: everything accepted goes out, in order, and sends work again.
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        var ids: [UInt64] = []
        while let frame = try channel.readOutbound(as: ByteBuffer.self) {
            ids.append(contentsOf: try decodeFrames(frame).map(\.call.callID))
        }
        let value1 = (0..<UInt64(accepted)).map { $0 }
        #expect(ids == value1)
        #expect(connection.budget.pendingBytes == 0)
        try connection.send(Fixtures.call(9999))
        channel.embeddedEventLoop.run()
        #expect(try channel.readOutbound(as: ByteBuffer.self) != nil)
        _ = try channel.finish()
    }

    @Test("the budget returns to zero once a fragmented envelope has been written")
    func budgetReturnsToZeroAfterFragments() throws {
        let (channel, connection, _) = try connection(limit: 1 << 20, fragmentSize: 64)
        for id: UInt64 in 1...100 {
            try connection.send(Fixtures.call(id, arguments: Data(repeating: UInt8(id), count: 1000)))
        }
        channel.embeddedEventLoop.run()
        var stream = ByteBuffer()  // a fragment leaves as two buffers, its header and its chunk
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) { stream.writeBuffer(&buffer) }
        let fragments = try decodeFrames(stream)
        #expect(fragments.count > 100)
        let value = fragments.allSatisfy { $0.fragment.streamID != 0 }
        #expect(value)
        #expect(connection.budget.pendingBytes == 0)
        _ = try channel.finish()
    }

    @Test("sends still queued when the connection closes are released from the budget")
    func closeReleasesBudget() throws {
        let (channel, connection, _) = try connection(limit: 1 << 20, fragmentSize: 64)
        channel.isWritable = false
        try connection.send(Fixtures.call(1))
        try connection.send(Fixtures.call(2, arguments: Data(repeating: 2, count: 1000)))
        channel.embeddedEventLoop.run()
        #expect(connection.budget.pendingBytes > 0)
        _ = try channel.finish(acceptAlreadyClosed: true)
        #expect(connection.budget.pendingBytes == 0)
        #expect {
            try connection.send(Fixtures.call(3))
        } throws: { TransportError.code(of: $0) == .unreachable }
    }

    @Test("a burst of sends is packed into one buffer, written with a single flush")
    func oneFlushPerBatch() throws {
        let (channel, connection, counter) = try connection(limit: 1 << 20)
        for id: UInt64 in 1...50 { try connection.send(Fixtures.call(id)) }
        #expect(counter.writes == 0)  // nothing happens until the event loop runs
        channel.embeddedEventLoop.run()
        #expect(counter.writes == 1)
        #expect(counter.flushes == 1)
        for id: UInt64 in 51...60 { try connection.send(Fixtures.call(id)) }
        channel.embeddedEventLoop.run()
        #expect(counter.writes == 2)
        #expect(counter.flushes == 2)
        var ids: [UInt64] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            ids += try decodeFrames(buffer).map(\.call.callID)
        }
        #expect(ids == Array(1...60), "every frame arrives, in send order")
        #expect(connection.budget.pendingBytes == 0)
        _ = try channel.finish()
    }
}

/// Counts the writes and flushes that reach the "socket".
final class WriteCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    private(set) var writes = 0
    private(set) var flushes = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        writes += 1
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        flushes += 1
        context.flush()
    }
}

@available(*, unavailable)
extension WriteCounter: Sendable {}
