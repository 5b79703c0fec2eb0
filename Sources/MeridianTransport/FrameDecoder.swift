import NIOCore

/// Splits the inbound byte stream into frames: a 4-byte big-endian length, then that many bytes.
///
/// swift-nio-extras' `LengthFieldBasedFrameDecoder` would wait (and buffer) up to 2 GiB for a
/// hostile length prefix; this decoder rejects an oversized prefix as soon as it is read, so a
/// peer can never make us buffer more than `maxFrameSize` + 4 bytes.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public let maxFrameSize: Int

    public init(maxFrameSize: Int) {
        self.maxFrameSize = maxFrameSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else {
            return nil
        }
        guard Int(length) <= maxFrameSize else {
            throw TransportError(
                .frameTooLarge,
                "peer announced a \(length)-byte frame; the limit is \(maxFrameSize) (TransportConfiguration.maxFrameSize)"
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

