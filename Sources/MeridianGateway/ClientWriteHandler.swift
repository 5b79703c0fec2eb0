import MeridianTransport
import NIOCore

/// Writes one client's ``ClientOutbox`` to its connection, on the connection's event loop.
///
/// No task waits per connection: the outbox wakes the handler when something arrives, and the
/// handler writes everything pending as one flush while the channel is writable. While it is
/// not (the client reads slower than it is sent to), messages stay in the outbox — where
/// deltas replace each other and reliable messages hit their bound — until the channel's
/// writability comes back.
///
/// When the outbox is closed and drained, the handler half-closes the output: the client reads
/// the last frames (an error that explains the close, say), then end-of-file. A full close while
/// the client's bytes are still arriving would answer them with a reset, which can destroy the
/// last frames in the client's receive buffer. ``written`` completes then (or when the channel
/// goes away first).
final class ClientWriteHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let outbox: ClientOutbox
    private let writtenPromise: EventLoopPromise<Void>
    private var context: ChannelHandlerContext?
    private var finished = false

    /// Completes once the output is closed after the last message, or the connection is gone.
    let written: EventLoopFuture<Void>

    init(outbox: ClientOutbox, eventLoop: any EventLoop) {
        self.outbox = outbox
        self.writtenPromise = eventLoop.makePromise()
        self.written = writtenPromise.futureResult
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        outbox.onReady(on: context.eventLoop) { handler.value.drain() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        writtenPromise.succeed()
    }

    func channelInactive(context: ChannelHandlerContext) {
        writtenPromise.succeed()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { drain() }
        context.fireChannelWritabilityChanged()
    }

    private func drain() {
        guard let context, !finished, context.channel.isWritable else { return }
        switch outbox.drain() {
        case .idle:
            return
        case .write(let frames, let last):
            context.writeAndFlush(wrapOutboundOut(frames), promise: nil)
            // More may have arrived meanwhile; the outbox woke us again for it if so.
            if last { endOutput(context) }
        case .finished:
            endOutput(context)
        }
    }

    private func endOutput(_ context: ChannelHandlerContext) {
        finished = true
        let promise = writtenPromise
        let channel = context.channel
        context.close(mode: .output).whenComplete { result in
            if case .failure = result { channel.close(promise: nil) }
            promise.succeed()
        }
    }
}
