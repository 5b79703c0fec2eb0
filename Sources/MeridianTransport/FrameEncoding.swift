import NIOCore
import SwiftProtobuf

extension ByteBuffer {
    /// Appends `message` as one frame — the 4-byte big-endian length, then its protobuf bytes —
    /// the framing of both the cluster and the client protocol (read by ``FrameDecoder``).
    package mutating func writeFrame(_ message: some SwiftProtobuf.Message) throws {
        writeImmutableBuffer(try ByteBuffer.frame(message))
    }

    /// `message` as one frame of its own (see ``writeFrame(_:)``), encoded in place: no copy of
    /// its bytes, which matters for the large ones.
    package static func frame(_ message: some SwiftProtobuf.Message) throws -> ByteBuffer {
        let framed: FramedProtobufBytes = try message.serializedBytes()
        return framed.frame
    }
}

/// Lets swift-protobuf serialize a message straight into a frame. swift-protobuf sizes the
/// message, asks for bytes of that size and fills them; here those bytes are the body of a
/// frame whose 4-byte length prefix is already written, so the message is encoded once and
/// the frame is ready to send.
struct FramedProtobufBytes: SwiftProtobufContiguousBytes {
    /// The length prefix, then the message.
    var frame: ByteBuffer

    init(repeating: UInt8, count: Int) {
        frame = ByteBuffer()
        frame.reserveCapacity(count + 4)
        frame.writeInteger(UInt32(count))
        frame.writeRepeatingByte(repeating, count: count)
    }

    init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
        let bytes = Array(sequence)
        self.init(repeating: 0, count: bytes.count)
        frame.setBytes(bytes, at: frame.readerIndex + 4)
    }

    var count: Int { frame.readableBytes - 4 }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try frame.withUnsafeReadableBytes { try body(UnsafeRawBufferPointer(rebasing: $0.dropFirst(4))) }
    }

    mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try frame.withUnsafeMutableReadableBytes { try body(UnsafeMutableRawBufferPointer(rebasing: $0.dropFirst(4))) }
    }
}
