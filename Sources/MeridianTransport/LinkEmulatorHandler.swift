import DequeModule
import NIOCore

/// Applies ``LinkEmulation`` at the socket end of the pipeline: outbound bytes are held for
/// the link's one-way delay (order kept), and a partitioned link drops bytes both ways.
/// Inactive until the handshake says who the peer is.
package final class LinkEmulatorHandler: ChannelDuplexHandler {
    package typealias InboundIn = ByteBuffer
    package typealias InboundOut = ByteBuffer
    package typealias OutboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    private let emulation: LinkEmulation
    private var peer: PeerIdentity?
    private var delayed: Deque<(due: NIODeadline, data: ByteBuffer, promise: EventLoopPromise<Void>?)> = []
    private var drainScheduled = false

    package init(emulation: LinkEmulation) {
        self.emulation = emulation
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? HandshakeCompleted { peer = completed.peer }
        context.fireUserInboundEventTriggered(event)
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let peer, emulation.conditions(for: peer).dropped { return }
        context.fireChannelRead(data)
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard let peer else {
            context.write(data, promise: promise)
            return
        }
        let conditions = emulation.conditions(for: peer)
        if conditions.dropped {
            promise?.succeed()  // lost on the wire, as a partition would
            return
        }
        if conditions.delay == .zero && delayed.isEmpty {
            context.write(data, promise: promise)
        } else {
            delayed.append((.now() + conditions.delay, unwrapOutboundIn(data), promise))
        }
    }

    package func flush(context: ChannelHandlerContext) {
        if delayed.isEmpty {
            context.flush()
        } else {
            scheduleDrain(context: context)
        }
    }

    package func channelInactive(context: ChannelHandlerContext) {
        while let entry = delayed.popFirst() {
            entry.promise?.fail(ChannelError.ioOnClosedChannel)
        }
        context.fireChannelInactive()
    }

    private func scheduleDrain(context: ChannelHandlerContext) {
        guard !drainScheduled, let first = delayed.first else { return }
        drainScheduled = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: first.due) {
            let (handler, context) = loopBound.value
            handler.drainScheduled = false
            handler.drain(context: context)
        }
    }

    private func drain(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        var wrote = false
        while let first = delayed.first, first.due <= now {
            delayed.removeFirst()
            context.write(wrapOutboundOut(first.data), promise: first.promise)
            wrote = true
        }
        if wrote { context.flush() }
        scheduleDrain(context: context)
    }
}

@available(*, unavailable)
extension LinkEmulatorHandler: Sendable {}
