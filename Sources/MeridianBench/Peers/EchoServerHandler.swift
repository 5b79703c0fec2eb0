import NIOCore

/// Writes every inbound frame straight back; flushes once per read burst.
///
/// Sits after a length-field frame decoder and before a length-prefix encoder, so it echoes
/// whole frames.
final class EchoServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var unflushed = false

    init() {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The frame is already what goes back: no unwrap, no copy.
        context.write(data, promise: nil)
        self.unflushed = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.unflushed {
            self.unflushed = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // The server is shutting down; an echo has no request to finish first.
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A benchmark peer: a broken connection is closed, the others carry on.
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension EchoServerHandler: Sendable {}
