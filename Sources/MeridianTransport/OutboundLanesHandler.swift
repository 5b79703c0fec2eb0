import DequeModule
import Foundation
import MeridianWire
import NIOCore

/// Schedules outbound frames on two lanes.
///
/// - The **priority lane** carries every frame up to `fragmentSize` (calls, replies,
///   heartbeats, membership): it is written ahead of anything on the bulk lane.
/// - The **bulk lane** carries larger envelopes, cut into ``Fragment``s of `fragmentSize`
///   that are written only while the channel is writable, one at a time, so a small frame
///   waits behind at most one fragment plus what the kernel already holds.
///
/// Inbound frames are framed, length-prefixed ``ByteBuffer``s produced by
/// ``EnvelopeCoding/frame(_:allocator:)``; every byte handed to the socket is released from
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
    private let budget: OutboundBudget
    private var priority: Deque<(ByteBuffer, EventLoopPromise<Void>?)> = []
    private var bulk: Deque<BulkMessage> = []
    private var nextStreamID: UInt64 = 1
    private var pumping = false

    package init(fragmentSize: Int, budget: OutboundBudget) {
        self.fragmentSize = fragmentSize
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
        // Bulk goes only when nothing small is waiting, one fragment per writable window.
        while priority.isEmpty, context.channel.isWritable, !bulk.isEmpty {
            writeNextFragment(context: context)
        }
    }

    private func writeNextFragment(context: ChannelHandlerContext) {
        var message = bulk.removeFirst()
        let chunkLength = min(fragmentSize, message.payload.readableBytes)
        let chunk = message.payload.readSlice(length: chunkLength)!
        let last = message.payload.readableBytes == 0

        var fragment = Meridian_Cluster_V1_Fragment()
        fragment.streamID = message.streamID
        if !message.started { fragment.totalSize = UInt64(message.totalSize) }
        fragment.chunk = Data(chunk.readableBytesView)
        fragment.last = last
        message.started = true

        var envelope = Envelope()
        envelope.fragment = fragment
        budget.release(chunkLength)
        do {
            let framed = try EnvelopeCoding.frame(envelope, allocator: context.channel.allocator)
            context.write(wrapOutboundOut(framed), promise: last ? message.promise : nil)
        } catch {
            message.promise?.fail(error)
            return
        }
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
