import NIOCore

/// On a plaintext connection, recognises a gateway that answers with TLS (its first bytes are
/// a TLS record: an alert or a handshake, version 3.x) and fails the connection saying so,
/// instead of reading the record header as an enormous frame length. Removes itself after the
/// first bytes.
final class TLSAnswerDetector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
           let major = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self),
           type == 0x15 || type == 0x16, major == 0x03 {
            context.fireErrorCaught(MeridianClientError(
                .connectFailed, "the gateway speaks TLS; connect with ClientConnectionConfiguration.tls (meridian loadtest: --tls-ca)"
            ))
            return
        }
        // Passed on before leaving the pipeline: a removed context forwards nothing.
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

@available(*, unavailable)
extension TLSAnswerDetector: Sendable {}
