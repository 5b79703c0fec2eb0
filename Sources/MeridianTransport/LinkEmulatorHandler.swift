import DequeModule
import NIOCore

/// Applies ``LinkEmulation`` at the socket end of the pipeline: outbound bytes are held for
/// the link's one-way delay (order kept), and a partitioned link holds bytes both ways until it
/// heals (then they pass, in order) or the connection closes (then they are gone with it), as a
/// TCP connection does when its packets stop arriving. Inactive until the handshake says who
/// the peer is.
package final class LinkEmulatorHandler: ChannelDuplexHandler {
    package typealias InboundIn = ByteBuffer
    package typealias InboundOut = ByteBuffer
    package typealias OutboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    private let emulation: LinkEmulation
    private var peer: PeerIdentity?
    private var delayed: Deque<(due: NIODeadline, data: ByteBuffer, promise: EventLoopPromise<Void>?)> = []
    private var drainScheduled = false
    /// Written while the link was partitioned, in order.
    private var heldOutbound: Deque<(data: ByteBuffer, promise: EventLoopPromise<Void>?)> = []
    /// Read while the link was partitioned, in order.
    private var heldInbound: Deque<ByteBuffer> = []
    private var context: ChannelHandlerContext?

    package init(emulation: LinkEmulation) {
        self.emulation = emulation
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        emulation.listen(ObjectIdentifier(self)) {
            eventLoop.execute { handler.value.release() }
        }
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        emulation.stopListening(ObjectIdentifier(self))
        self.context = nil
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? HandshakeCompleted { peer = completed.peer }
        context.fireUserInboundEventTriggered(event)
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let peer, !heldInbound.isEmpty || emulation.conditions(for: peer).partitioned {
            heldInbound.append(unwrapInboundIn(data))
            return
        }
        context.fireChannelRead(data)
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard let peer else {
            context.write(data, promise: promise)
            return
        }
        let conditions = emulation.conditions(for: peer)
        if conditions.partitioned || !heldOutbound.isEmpty {
            heldOutbound.append((unwrapOutboundIn(data), promise))
            return
        }
        send(unwrapOutboundIn(data), promise: promise, delay: conditions.delay, context: context)
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
        while let entry = heldOutbound.popFirst() {
            entry.promise?.fail(ChannelError.ioOnClosedChannel)
        }
        heldInbound.removeAll()
        context.fireChannelInactive()
    }

    /// The partition healed (or another one did): what was held passes, in order.
    private func release() {
        guard let context, let peer else { return }
        let conditions = emulation.conditions(for: peer)
        guard !conditions.partitioned else { return }
        if !heldInbound.isEmpty {
            while let data = heldInbound.popFirst() { context.fireChannelRead(wrapInboundOut(data)) }
            context.fireChannelReadComplete()
        }
        if !heldOutbound.isEmpty {
            while let entry = heldOutbound.popFirst() {
                send(entry.data, promise: entry.promise, delay: conditions.delay, context: context)
            }
            flush(context: context)
        }
    }

    private func send(_ data: ByteBuffer, promise: EventLoopPromise<Void>?, delay: TimeAmount, context: ChannelHandlerContext) {
        if delay == .zero && delayed.isEmpty {
            context.write(wrapOutboundOut(data), promise: promise)
        } else {
            delayed.append((.now() + delay, data, promise))
        }
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
