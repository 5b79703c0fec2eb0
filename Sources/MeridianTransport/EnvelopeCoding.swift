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
    /// fragments copies none of its bytes. `totalSize` is 0 but on the first.
    package static func fragmentHeader(streamID: UInt64, totalSize: UInt64, last: Bool, chunkLength: Int) throws -> ByteBuffer {
        var fragment = Meridian_Cluster_V1_Fragment()
        fragment.streamID = streamID
        fragment.totalSize = totalSize
        fragment.last = last
        return try header(kind: 20, fragment, bytesField: .plain(3), length: chunkLength, room: 0)
    }

    /// One frame of an envelope whose kind (field `kind` of ``Envelope``) is `message` with
    /// `bytes` as its bytes field `field` — a call's arguments, a reply's value — written
    /// straight from `bytes`. A large argument is copied once, into the frame, not first into
    /// a `Data` field and then into the frame. `message` must leave that field empty.
    package static func frame(kind: Int, _ message: some SwiftProtobuf.Message, appending bytes: [UInt8], asField field: InPlaceBytesField) throws -> ByteBuffer {
        var frame = try header(kind: kind, message, bytesField: field, length: bytes.count, room: bytes.count)
        frame.writeBytes(bytes)
        return frame
    }

    /// A frame up to the contents of `message`'s bytes field `field`, `length` bytes that the
    /// caller writes next: the length prefix, `Envelope`'s field `kind` holding `message` (with
    /// that field empty) and the field's tag and length. Protobuf takes fields in any order,
    /// so the bytes field may come last, after the others. `room`: capacity kept for the bytes
    /// when the caller writes them into this buffer. The field is written as protobuf's own
    /// encoding writes it (left out when empty, unless it has presence), so the frame is byte
    /// for byte the envelope's serialization.
    private static func header(kind: Int, _ message: some SwiftProtobuf.Message, bytesField field: InPlaceBytesField, length: Int, room: Int) throws -> ByteBuffer {
        let head: [UInt8] = try message.serializedBytes()
        let bytesTag = UInt64(field.number << 3 | 2)
        let kindTag = UInt64(kind << 3 | 2)
        let written = length > 0 || field.writtenWhenEmpty
        let fieldHeaderLength = written ? varintSize(bytesTag) + varintSize(UInt64(length)) : 0
        let messageLength = head.count + fieldHeaderLength + length
        let envelopeLength = varintSize(kindTag) + varintSize(UInt64(messageLength)) + messageLength
        var frame = ByteBuffer()
        frame.reserveCapacity(4 + envelopeLength - length + room)
        frame.writeInteger(UInt32(envelopeLength))
        frame.writeVarint(kindTag)
        frame.writeVarint(UInt64(messageLength))
        frame.writeBytes(head)
        if written {
            frame.writeVarint(bytesTag)
            frame.writeVarint(UInt64(length))
        }
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

/// A bytes field that ``EnvelopeCoding`` writes in place, after the rest of its message.
package struct InPlaceBytesField: Sendable {
    /// The field's number in its message.
    package var number: Int
    /// Whether protobuf writes the field when it is empty: a member of a `oneof` has presence
    /// (an empty reply value still says the outcome is a value); a plain proto3 field is left out.
    package var writtenWhenEmpty: Bool

    /// A plain proto3 `bytes` field, left out when empty.
    package static func plain(_ number: Int) -> Self { Self(number: number, writtenWhenEmpty: false) }

    /// A `bytes` member of a `oneof`, written even when empty.
    package static func oneofMember(_ number: Int) -> Self { Self(number: number, writtenWhenEmpty: true) }
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
