import MeridianWire
import NIOCore
import NIOSSL

/// Runs the handshake on a new connection and lets nothing else through until it completes.
///
/// On success it fires ``HandshakeCompleted`` from the head of the pipeline (so the link
/// emulator and heartbeats learn who the peer is) and from then on forwards every envelope.
/// On failure it sends a ``Meridian_Cluster_V1_Reject`` naming the reason and closes.
package final class HandshakeHandler: ChannelInboundHandler {
    package typealias InboundIn = Envelope
    package typealias InboundOut = Envelope

    private var machine: HandshakeStateMachine
    private let dialing: Bool
    private let timeout: TimeAmount
    private var timeoutTask: Scheduled<Void>?
    private let budget: OutboundBudget
    /// Whether the link runs mutual TLS (a `NIOSSLHandler` before this one): the peer must then
    /// be the node its certificate names.
    private let tls: Bool

    /// The inbound frame limit, and what it becomes once the peer is authenticated.
    private let frameLimit: (limit: FrameSizeLimit, raisedTo: Int)?

    package init(
        local: LocalHandshakeInfo, dialing: Bool, timeout: TimeAmount, budget: OutboundBudget, tls: Bool = false,
        frameLimit: (FrameSizeLimit, raisedTo: Int)? = nil
    ) {
        self.frameLimit = frameLimit.map { (limit: $0.0, raisedTo: $0.raisedTo) }
        self.budget = budget
        self.tls = tls
        self.machine = HandshakeStateMachine(local: local)
        self.dialing = dialing
        self.timeout = timeout
    }

    package func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    private func start(context: ChannelHandlerContext) {
        guard timeoutTask == nil else { return }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let timeout = self.timeout
        timeoutTask = context.eventLoop.scheduleTask(in: timeout) {
            loopBound.value.fireErrorCaught(TransportError(.handshakeTimeout, "handshake did not complete within \(timeout)"))
        }
        if dialing {
            send(machine.startDialing(), context: context)
        } else {
            machine.startAccepting()
        }
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if machine.isComplete {
            context.fireChannelRead(data)
            return
        }
        switch machine.receive(unwrapInboundIn(data), certification: certification(context)) {
        case .send(let envelope):
            send(envelope, context: context)
        case .complete(let completed):
            complete(completed, context: context)
        case .sendAndComplete(let envelope, let completed):
            send(envelope, context: context)
            complete(completed, context: context)
        case .reject(let reason, let error):
            timeoutTask?.cancel()
            // A peer's own Reject needs no answer; anything else is answered with one.
            if case .reject? = unwrapInboundIn(data).kind {} else { sendReject(reason, error, context: context) }
            context.fireErrorCaught(error)
        }
    }

    package func channelInactive(context: ChannelHandlerContext) {
        timeoutTask?.cancel()
        context.fireChannelInactive()
    }

    /// Read when the first handshake message arrives: TLS finished its own handshake (and
    /// verified the chain) before any application byte could pass.
    private func certification(_ context: ChannelHandlerContext) -> PeerCertification {
        guard tls else { return .none }
        let certificate = (try? context.pipeline.syncOperations.nioSSL_peerCertificate()) ?? nil
        return .tls(certifiedNode: certificate.flatMap(ClusterTLS.certifiedNode))
    }

    private func complete(_ completed: HandshakeCompleted, context: ChannelHandlerContext) {
        timeoutTask?.cancel()
        timeoutTask = nil
        // Before the next frame is decoded: the frame decoder runs this read synchronously.
        if let frameLimit {
            frameLimit.limit.bytes = frameLimit.raisedTo
            frameLimit.limit.setting = "TransportConfiguration.maxFrameSize"
        }
        context.pipeline.fireUserInboundEventTriggered(completed)
    }

    private func send(_ envelope: Envelope, context: ChannelHandlerContext) {
        do {
            let frame = try EnvelopeCoding.frame(envelope)
            budget.force(frame.readableBytes)
            context.writeAndFlush(NIOAny(frame), promise: nil)
        } catch {
            context.fireErrorCaught(error)
        }
    }

    private func sendReject(_ reason: Meridian_Cluster_V1_Reject.Reason, _ error: TransportError, context: ChannelHandlerContext) {
        var reject = Meridian_Cluster_V1_Reject()
        reject.reason = reason
        reject.message = error.message
        var envelope = Envelope()
        envelope.reject = reject
        send(envelope, context: context)
    }
}

@available(*, unavailable)
extension HandshakeHandler: Sendable {}
