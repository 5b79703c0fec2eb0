import DequeModule
import NIOCore

/// Schedules outbound frames on two lanes.
///
/// - The **priority lane** carries every frame up to `fragmentSize` (calls, replies,
///   heartbeats, membership): it is written ahead of anything on the bulk lane.
/// - The **bulk lane** carries larger envelopes, cut into ``Fragment``s of `fragmentSize`
///   that are written only while the channel is writable, one at a time, so a small frame
///   waits behind at most one fragment plus what the kernel already holds.
///
/// The bulk lane is flow-controlled: at most `bulkWindow` bytes of fragment chunks may be
/// unacknowledged by the peer (``BulkCreditGranted``, from the peer's ``FragmentReassembler``).
/// Without it the kernel's buffers (several MiB on loopback) would fill with a large message
/// that every later small frame waits behind, whatever order this handler writes in.
///
/// Inbound frames are framed, length-prefixed ``ByteBuffer``s produced by
/// ``EnvelopeCoding/frame(_:)``; every byte handed to the socket is released from
/// the connection's ``OutboundBudget``.
package final class OutboundLanesHandler: ChannelDuplexHandler {
    package typealias InboundIn = Never
    package typealias OutboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    private struct BulkMessage {
        var streamID: UInt64
        var payload: ByteBuffer
        var totalSize: Int
        var started = false
        var promise: EventLoopPromise<Void>?
    }

    private let fragmentSize: Int
    private let bulkWindow: Int
    /// Chunk bytes written and not yet acknowledged by the peer.
    private var bulkInFlight = 0
    private let budget: OutboundBudget
    private var priority: Deque<(ByteBuffer, EventLoopPromise<Void>?)> = []
    private var bulk: Deque<BulkMessage> = []
    private var nextStreamID: UInt64 = 1
    private var pumping = false

    package init(fragmentSize: Int, bulkWindow: Int, budget: OutboundBudget) {
        self.fragmentSize = fragmentSize
        self.bulkWindow = bulkWindow
        self.budget = budget
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var frame = unwrapOutboundIn(data)
        if frame.readableBytes - 4 <= fragmentSize {
            if priority.isEmpty && context.channel.isWritable {
                budget.release(frame.readableBytes)
                context.write(wrapOutboundOut(frame), promise: promise)
            } else {
                priority.append((frame, promise))
            }
            return
        }
        frame.moveReaderIndex(forwardBy: 4)  // fragments carry the envelope bytes, not our prefix
        budget.release(4)  // reserved with the frame, never written: fragments are framed anew
        let message = BulkMessage(
            streamID: nextStreamID,
            payload: frame,
            totalSize: frame.readableBytes,
            promise: promise
        )
        nextStreamID &+= 1
        bulk.append(message)
    }

    package func flush(context: ChannelHandlerContext) {
        pump(context: context)
        context.flush()
    }

    package func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            pump(context: context)
            context.flush()
        }
        context.fireChannelWritabilityChanged()
    }

    package func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let credit = event as? BulkCreditGranted else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        bulkInFlight = max(0, bulkInFlight - credit.bytes)
        promise?.succeed()
        pump(context: context)
        context.flush()
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        failPending(TransportError(.unreachable, "connection closed before the message was sent"))
    }

    package func channelInactive(context: ChannelHandlerContext) {
        failPending(TransportError(.unreachable, "connection closed before the message was sent"))
        context.fireChannelInactive()
    }

    private func pump(context: ChannelHandlerContext) {
        guard !pumping else { return }
        pumping = true
        defer { pumping = false }
        while context.channel.isWritable, let (frame, promise) = priority.popFirst() {
            budget.release(frame.readableBytes)
            context.write(wrapOutboundOut(frame), promise: promise)
        }
        // Bulk goes only when nothing small is waiting, one fragment per writable window, and
        // while the peer has consumed all but `bulkWindow` bytes of it.
        while priority.isEmpty, context.channel.isWritable, !bulk.isEmpty, bulkInFlight < bulkWindow {
            writeNextFragment(context: context)
        }
    }

    private func writeNextFragment(context: ChannelHandlerContext) {
        var message = bulk.removeFirst()
        let chunkLength = min(fragmentSize, message.payload.readableBytes)
        let chunk = message.payload.readSlice(length: chunkLength)!
        let last = message.payload.readableBytes == 0
        let header: ByteBuffer
        do {
            header = try EnvelopeCoding.fragmentHeader(
                streamID: message.streamID, totalSize: message.started ? 0 : UInt64(message.totalSize),
                last: last, chunkLength: chunkLength
            )
        } catch {
            budget.release(chunkLength + message.payload.readableBytes)
            message.promise?.fail(error)
            return
        }
        message.started = true
        budget.release(chunkLength)
        bulkInFlight += chunkLength
        context.write(wrapOutboundOut(header), promise: nil)
        context.write(wrapOutboundOut(chunk), promise: last ? message.promise : nil)
        if !last { bulk.prepend(message) }
    }

    private func failPending(_ error: TransportError) {
        while let (frame, promise) = priority.popFirst() {
            budget.release(frame.readableBytes)
            promise?.fail(error)
        }
        while let message = bulk.popFirst() {
            budget.release(message.payload.readableBytes)
            message.promise?.fail(error)
        }
    }
}

@available(*, unavailable)
extension OutboundLanesHandler: Sendable {}

/// The peer consumed `bytes` more bytes of this node's fragments: an outbound user event from
/// the ``FragmentReassembler`` that read the peer's ``Meridian_Cluster_V1_BulkCredit`` to the
/// ``OutboundLanesHandler``.
package struct BulkCreditGranted: Sendable {
    package var bytes: Int

    package init(bytes: Int) { self.bytes = bytes }
}
