import Foundation
import MeridianWire
import NIOCore
import SwiftProtobuf

package typealias Envelope = Meridian_Cluster_V1_Envelope

/// Turns envelopes into frames and frames into envelopes.
package enum EnvelopeCoding {
    /// Serializes `envelope` into one buffer: the 4-byte length prefix, then the protobuf bytes.
    package static func frame(_ envelope: Envelope) throws -> ByteBuffer {
        try ByteBuffer.frame(envelope)
    }

    /// The frame of one ``Fragment`` of a large envelope up to its chunk: the length prefix and
    /// the protobuf bytes of `Envelope { fragment: Fragment { stream_id, total_size, last,
    /// chunk } }` but the chunk's own `chunkLength` bytes, which the sender writes right after
    /// as they are — a slice of the large envelope's frame — so cutting a message into
    /// fragments copies none of its bytes. (Protobuf takes fields in any order; the chunk,
    /// field 3, comes last so it can follow the header.) `totalSize` is 0 but on the first.
    package static func fragmentHeader(streamID: UInt64, totalSize: UInt64, last: Bool, chunkLength: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var fragmentLength = 1 + varintSize(UInt64(chunkLength)) + chunkLength  // chunk = 3
        if streamID != 0 { fragmentLength += 1 + varintSize(streamID) }        // stream_id = 1
        if totalSize != 0 { fragmentLength += 1 + varintSize(totalSize) }      // total_size = 2
        if last { fragmentLength += 2 }                                        // last = 4
        let envelopeLength = 2 + varintSize(UInt64(fragmentLength)) + fragmentLength  // Envelope.fragment = 20
        var header = allocator.buffer(capacity: 32)
        header.writeInteger(UInt32(envelopeLength))
        header.writeVarint(20 << 3 | 2)
        header.writeVarint(UInt64(fragmentLength))
        if streamID != 0 {
            header.writeInteger(UInt8(1 << 3))
            header.writeVarint(streamID)
        }
        if totalSize != 0 {
            header.writeInteger(UInt8(2 << 3))
            header.writeVarint(totalSize)
        }
        if last { header.writeBytes([4 << 3, 1]) }
        header.writeInteger(UInt8(3 << 3 | 2))
        header.writeVarint(UInt64(chunkLength))
        return header
    }

    /// One frame of an envelope whose kind (field `kind` of ``Envelope``) is `message` with
    /// `bytes` as its bytes field `field` — a call's arguments, a reply's value — written
    /// straight from `bytes`. A large argument is copied once, into the frame, not first into
    /// a `Data` field and then into the frame. `message` must leave that field empty.
    /// (Protobuf takes fields in any order: the bytes field comes last.)
    package static func frame(kind: Int, _ message: some SwiftProtobuf.Message, appending bytes: [UInt8], asField field: Int) throws -> ByteBuffer {
        let head: [UInt8] = try message.serializedBytes()
        let bytesTag = UInt64(field << 3 | 2)
        let kindTag = UInt64(kind << 3 | 2)
        let messageLength = head.count + varintSize(bytesTag) + varintSize(UInt64(bytes.count)) + bytes.count
        let envelopeLength = varintSize(kindTag) + varintSize(UInt64(messageLength)) + messageLength
        var frame = ByteBuffer()
        frame.reserveCapacity(4 + envelopeLength)
        frame.writeInteger(UInt32(envelopeLength))
        frame.writeVarint(kindTag)
        frame.writeVarint(UInt64(messageLength))
        frame.writeBytes(head)
        frame.writeVarint(bytesTag)
        frame.writeVarint(UInt64(bytes.count))
        frame.writeBytes(bytes)
        return frame
    }

    private static func varintSize(_ value: UInt64) -> Int {
        max(1, (64 - value.leadingZeroBitCount + 6) / 7)
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

extension ByteBuffer {
    /// Appends `value` as a protobuf varint.
    mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        writeInteger(UInt8(value))
    }
}
