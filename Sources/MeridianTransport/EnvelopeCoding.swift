import Foundation
import MeridianWire
import NIOCore
import SwiftProtobuf

package typealias Envelope = Meridian_Cluster_V1_Envelope

/// Turns envelopes into frames and frames into envelopes.
package enum EnvelopeCoding {
    /// Serializes `envelope` into one buffer: the 4-byte length prefix, then the protobuf bytes.
    package static func frame(_ envelope: Envelope, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        try buffer.writeFrame(envelope)
        return buffer
    }

    /// Parses one frame's payload. Throws ``TransportError/Code/protocolViolation`` for bytes
    /// that are not an envelope, including an envelope whose kind this version does not know.
    package static func decode(_ payload: ByteBuffer) throws -> Envelope {
        let envelope: Envelope
        do {
            envelope = try Envelope(serializedBytes: ProtobufBytes(payload))
        } catch {
            throw TransportError(.protocolViolation, "frame is not a valid cluster envelope (\(error))")
        }
        guard envelope.kind != nil else {
            throw TransportError(.protocolViolation, "envelope of an unknown or empty kind; is the peer a newer version?")
        }
        return envelope
    }
}

/// Lets swift-protobuf parse straight out of a ``ByteBuffer`` (no copy into an array).
package struct ProtobufBytes: SwiftProtobufContiguousBytes {
    package var buffer: ByteBuffer

    package init(_ buffer: ByteBuffer) { self.buffer = buffer }
    package init(repeating: UInt8, count: Int) { buffer = ByteBuffer(repeating: repeating, count: count) }
    package init<S: Sequence>(_ sequence: S) where S.Element == UInt8 { buffer = ByteBuffer(bytes: sequence) }
    package var count: Int { buffer.readableBytes }

    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeReadableBytes(body)
    }

    package mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutableReadableBytes(body)
    }
}

/// Inbound: frame payload -> ``Envelope``. A malformed frame is a protocol violation that
/// closes the connection (see ``ConnectionErrorHandler``).
package final class EnvelopeDecoderHandler: ChannelInboundHandler {
    package typealias InboundIn = ByteBuffer
    package typealias InboundOut = Envelope

    package init() {}

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            let envelope = try EnvelopeCoding.decode(unwrapInboundIn(data))
            context.fireChannelRead(wrapInboundOut(envelope))
        } catch {
            context.fireErrorCaught(error)
        }
    }
}

@available(*, unavailable)
extension EnvelopeDecoderHandler: Sendable {}
