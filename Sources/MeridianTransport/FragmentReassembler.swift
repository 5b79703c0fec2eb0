import Foundation
import MeridianWire
import NIOCore

/// Inbound: joins ``Fragment`` envelopes back into the envelope they were cut from, and runs
/// both ends of the bulk lane's flow control: it grants the peer a ``Meridian_Cluster_V1_BulkCredit``
/// for the chunk bytes it consumed (once per read burst), and hands the peer's credits to this
/// node's ``OutboundLanesHandler`` (``BulkCreditGranted``).
///
/// Bounded: a message may not exceed `maxMessageSize`, and at most `maxStreams` messages may
/// be in reassembly at once; a peer that breaks either rule is disconnected.
package final class FragmentReassembler: ChannelDuplexHandler {
    package typealias InboundIn = Envelope
    package typealias InboundOut = Envelope
    package typealias OutboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    private let maxMessageSize: Int
    private let maxStreams: Int
    private let budget: OutboundBudget
    private var streams: [UInt64: ByteBuffer] = [:]
    private var expected: [UInt64: Int] = [:]
    /// Chunk bytes consumed since the last credit sent.
    private var consumed = 0

    package init(maxMessageSize: Int, maxStreams: Int = 16, budget: OutboundBudget) {
        self.maxMessageSize = maxMessageSize
        self.maxStreams = maxStreams
        self.budget = budget
    }

    /// Bytes of memory held for messages in reassembly.
    package var reservedBytes: Int { streams.values.reduce(0) { $0 + $1.capacity } }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        switch envelope.kind {
        case .fragment(let fragment)?:
            do {
                consumed += fragment.chunk.count
                if let whole = try absorb(fragment, allocator: context.channel.allocator) {
                    context.fireChannelRead(wrapInboundOut(try EnvelopeCoding.decode(whole)))
                }
            } catch {
                context.fireErrorCaught(error)
            }
        case .bulkCredit(let credit)?:
            context.triggerUserOutboundEvent(BulkCreditGranted(bytes: Int(clamping: credit.bytes)), promise: nil)
        default:
            context.fireChannelRead(data)
        }
    }

    package func channelReadComplete(context: ChannelHandlerContext) {
        if consumed > 0 {
            var envelope = Envelope()
            envelope.bulkCredit.bytes = UInt64(consumed)
            consumed = 0
            if let frame = try? EnvelopeCoding.frame(envelope) {
                budget.force(frame.readableBytes)
                context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
            }
        }
        context.fireChannelReadComplete()
    }

    private func absorb(_ fragment: Meridian_Cluster_V1_Fragment, allocator: ByteBufferAllocator) throws -> ByteBuffer? {
        let id = fragment.streamID
        if streams[id] == nil {
            let total = Int(clamping: fragment.totalSize)
            guard total > 0, total <= maxMessageSize else {
                throw TransportError(
                    .protocolViolation,
                    "fragmented message of \(fragment.totalSize) bytes exceeds the \(maxMessageSize)-byte limit (TransportConfiguration.maxMessageSize)"
                )
            }
            guard streams.count < maxStreams else {
                throw TransportError(.protocolViolation, "more than \(maxStreams) fragmented messages in flight")
            }
            // Grown as chunks arrive, never reserved at the announced size: a peer announcing
            // 64 MiB and sending 1 byte holds 1 byte of this node's memory.
            streams[id] = allocator.buffer(capacity: fragment.chunk.count)
            expected[id] = total
        }
        let total = expected[id]!
        guard streams[id]!.readableBytes + fragment.chunk.count <= total else {
            throw TransportError(.protocolViolation, "fragments of stream \(id) exceed the announced size \(total)")
        }
        streams[id]!.writeBytes(fragment.chunk)
        guard fragment.last else { return nil }
        let whole = streams.removeValue(forKey: id)!
        expected[id] = nil
        guard whole.readableBytes == total else {
            throw TransportError(.protocolViolation, "stream \(id) ended at \(whole.readableBytes) of \(total) bytes")
        }
        return whole
    }
}

@available(*, unavailable)
extension FragmentReassembler: Sendable {}
