import Foundation
import MeridianWire
import NIOCore

/// Inbound: joins ``Fragment`` envelopes back into the envelope they were cut from.
///
/// Bounded: a message may not exceed `maxMessageSize`, and at most `maxStreams` messages may
/// be in reassembly at once; a peer that breaks either rule is disconnected.
package final class FragmentReassembler: ChannelInboundHandler {
    package typealias InboundIn = Envelope
    package typealias InboundOut = Envelope

    private let maxMessageSize: Int
    private let maxStreams: Int
    private var streams: [UInt64: ByteBuffer] = [:]
    private var expected: [UInt64: Int] = [:]

    package init(maxMessageSize: Int, maxStreams: Int = 16) {
        self.maxMessageSize = maxMessageSize
        self.maxStreams = maxStreams
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard case .fragment(let fragment)? = envelope.kind else {
            context.fireChannelRead(data)
            return
        }
        do {
            if let whole = try absorb(fragment, allocator: context.channel.allocator) {
                context.fireChannelRead(wrapInboundOut(try EnvelopeCoding.decode(whole)))
            }
        } catch {
            context.fireErrorCaught(error)
        }
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
            streams[id] = allocator.buffer(capacity: total)
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
