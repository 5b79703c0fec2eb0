import MeridianWire
import NIOCore

/// Keeps an authenticated connection honest: sends a heartbeat when nothing else was written
/// for `interval`, answers the peer's heartbeats (so either side can measure the round trip),
/// and closes a connection that received nothing for `idleTimeout`.
///
/// Time is the event loop's (`EventLoop.now`), so a test on an `EmbeddedEventLoop` steps it.
package final class HeartbeatHandler: ChannelDuplexHandler {
    package typealias InboundIn = Envelope
    package typealias InboundOut = Envelope
    package typealias OutboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    private let interval: TimeAmount
    private let idleTimeout: TimeAmount
    private let onRoundTrip: @Sendable (TimeAmount) -> Void
    private let budget: OutboundBudget
    private var wroteSinceTick = false
    private var lastRead = NIODeadline.uptimeNanoseconds(0)
    private var task: RepeatedTask?

    package init(
        interval: TimeAmount,
        idleTimeout: TimeAmount,
        budget: OutboundBudget,
        onRoundTrip: @escaping @Sendable (TimeAmount) -> Void = { _ in }
    ) {
        self.budget = budget
        self.interval = interval
        self.idleTimeout = idleTimeout
        self.onRoundTrip = onRoundTrip
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is HandshakeCompleted, task == nil {
            lastRead = context.eventLoop.now
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            task = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                let (handler, context) = loopBound.value
                handler.tick(context: context)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = context.eventLoop.now
        let envelope = unwrapInboundIn(data)
        guard case .heartbeat(let heartbeat)? = envelope.kind else {
            context.fireChannelRead(data)
            return
        }
        if heartbeat.isReply {
            let now = UInt64(context.eventLoop.now.uptimeNanoseconds)
            if now > heartbeat.echo { onRoundTrip(.nanoseconds(Int64(now - heartbeat.echo))) }
        } else {
            var reply = Meridian_Cluster_V1_Heartbeat()
            reply.isReply = true
            reply.echo = heartbeat.sentAtNanos
            send(reply, context: context)
        }
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        wroteSinceTick = true
        context.write(data, promise: promise)
    }

    package func channelInactive(context: ChannelHandlerContext) {
        task?.cancel()
        task = nil
        context.fireChannelInactive()
    }

    private func tick(context: ChannelHandlerContext) {
        if context.eventLoop.now - lastRead > idleTimeout {
            context.fireErrorCaught(TransportError(.idleTimeout, "nothing received for \(idleTimeout); the peer is gone or stalled"))
            return
        }
        if !wroteSinceTick {
            var heartbeat = Meridian_Cluster_V1_Heartbeat()
            heartbeat.sentAtNanos = UInt64(context.eventLoop.now.uptimeNanoseconds)
            send(heartbeat, context: context)
        }
        wroteSinceTick = false
    }

    private func send(_ heartbeat: Meridian_Cluster_V1_Heartbeat, context: ChannelHandlerContext) {
        var envelope = Envelope()
        envelope.heartbeat = heartbeat
        guard let frame = try? EnvelopeCoding.frame(envelope) else { return }
        budget.force(frame.readableBytes)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }
}

@available(*, unavailable)
extension HeartbeatHandler: Sendable {}
