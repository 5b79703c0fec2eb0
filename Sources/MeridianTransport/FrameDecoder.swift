import NIOCore

/// Splits the inbound byte stream into frames: a 4-byte big-endian length, then that many bytes.
///
/// swift-nio-extras' `LengthFieldBasedFrameDecoder` would wait (and buffer) up to 2 GiB for a
/// hostile length prefix; this decoder rejects an oversized prefix as soon as it is read, so a
/// peer can never make us buffer more than the limit + 4 bytes. The limit may be a
/// ``FrameSizeLimit`` that a protocol raises once the peer is authenticated, so that a
/// stranger cannot make us buffer more than a handshake's worth.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    private let limit: FrameSizeLimit

    /// The limit in force now.
    public var maxFrameSize: Int { limit.bytes }

    public init(maxFrameSize: Int) {
        self.limit = FrameSizeLimit(bytes: maxFrameSize, setting: "the decoder's maxFrameSize")
    }

    /// A decoder whose limit the pipeline may change while it runs (``FrameSizeLimit``).
    package init(limit: FrameSizeLimit) {
        self.limit = limit
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else {
            return nil
        }
        guard Int(length) <= limit.bytes else {
            throw TransportError(
                .frameTooLarge,
                "peer announced a \(length)-byte frame; the limit is \(limit.bytes) (\(limit.setting))"
            )
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(length))
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try decode(buffer: &buffer)
    }
}

/// The largest frame one connection accepts now. A connection starts with a small limit, and
/// the handshake raises it when the peer has proven who it is (``HandshakeHandler``).
///
/// Confined to the connection's event loop: the decoder and the handler that raises it are
/// handlers of the same pipeline.
package final class FrameSizeLimit {
    package var bytes: Int
    /// The setting that names this limit, for the error a peer that breaks it causes.
    package var setting: String

    package init(bytes: Int, setting: String) {
        self.bytes = bytes
        self.setting = setting
    }
}

@available(*, unavailable)
extension FrameSizeLimit: Sendable {}
