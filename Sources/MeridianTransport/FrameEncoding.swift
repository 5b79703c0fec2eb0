import NIOCore
import SwiftProtobuf

extension ByteBuffer {
    /// Appends `message` as one frame — the 4-byte big-endian length, then its protobuf bytes —
    /// the framing of both the cluster and the client protocol (read by ``FrameDecoder``).
    package mutating func writeFrame(_ message: some SwiftProtobuf.Message) throws {
        let bytes: [UInt8] = try message.serializedBytes()
        reserveCapacity(minimumWritableBytes: bytes.count + 4)
        writeInteger(UInt32(bytes.count))
        writeBytes(bytes)
    }
}
