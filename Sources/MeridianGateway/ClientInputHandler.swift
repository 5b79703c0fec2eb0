import NIOCore

/// Hands a playing client's inputs and acks to its match's uplink on the event loop they were
/// read on (``ClientSession/takeOnEventLoop(_:)``); every other frame goes on to the
/// connection's reader. The hot path of a playing client — one input batch per tick — then
/// costs no task wake-up on the gateway.
final class ClientInputHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let session: ClientSession

    init(session: ClientSession) {
        self.session = session
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if session.takeOnEventLoop(unwrapInboundIn(data)) { return }
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension ClientInputHandler: Sendable {}
