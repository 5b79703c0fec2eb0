import NIOCore

/// The client end of a pipelined echo connection: writes queued requests, matches responses.
///
/// The server answers in order, so the first waiting continuation owns the next frame.
/// Requests reach the loop in batches through a ``PipelinedRequestQueue``; each batch is
/// written and flushed once.
final class EchoClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let queue: PipelinedRequestQueue
    /// Callers whose request is written and whose response has not come back, oldest first.
    private var awaiting = CircularBuffer<UnsafeContinuation<ByteBuffer, any Error>>(initialCapacity: 256)
    /// The other half of the queue's double buffer (see ``PipelinedRequestQueue/takePending(into:)``).
    private var batch: [PipelinedRequestQueue.Request] = []
    private var context: ChannelHandlerContext?

    init(queue: PipelinedRequestQueue) {
        self.queue = queue
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.failEverything(ChannelError.ioOnClosedChannel)
        self.context = nil
    }

    /// Writes every queued request, then flushes once. Runs on the event loop.
    func drain() {
        self.queue.takePending(into: &self.batch)
        guard let context = self.context, context.channel.isActive else {
            // The connection went away after these were queued: close() saw none of them.
            for request in self.batch {
                request.continuation.resume(throwing: ChannelError.ioOnClosedChannel)
            }
            self.batch.removeAll(keepingCapacity: true)
            return
        }
        for request in self.batch {
            self.awaiting.append(request.continuation)
            context.write(Self.wrapOutboundOut(request.payload), promise: nil)
        }
        self.batch.removeAll(keepingCapacity: true)
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let continuation = self.awaiting.popFirst() else {
            // A response nobody asked for: the peer is not an echo server.
            context.fireErrorCaught(UnexpectedEchoResponseError())
            context.close(promise: nil)
            return
        }
        continuation.resume(returning: Self.unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failEverything(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.failEverything(error)
        context.close(promise: nil)
    }

    /// Fails every caller, waiting or queued, and every later call.
    private func failEverything(_ error: any Error) {
        for request in self.queue.close(error: error) {
            request.continuation.resume(throwing: error)
        }
        while let continuation = self.awaiting.popFirst() {
            continuation.resume(throwing: error)
        }
    }
}

@available(*, unavailable)
extension EchoClientHandler: Sendable {}

/// The echo server sent a frame when no request was waiting for one.
struct UnexpectedEchoResponseError: Error, CustomStringConvertible {
    var description: String {
        "the echo peer sent a response with no request outstanding; is the port an echo server?"
    }
}
