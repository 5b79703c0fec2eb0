import Logging
import MeridianWire
import NIOCore

/// The last handler of a cluster connection: registers the connection once the handshake
/// completes, hands every envelope to the cluster layer, and turns any error into a logged,
/// clean close (with a ``Meridian_Cluster_V1_Reject`` saying why, where the peer can read it).
package final class PeerChannelHandler: ChannelInboundHandler {
    package typealias InboundIn = Envelope

    private let registry: ClusterTransport
    private let budget: OutboundBudget
    private var logger: Logger
    private var connection: PeerConnection?
    private var receiver: (any PeerMessageReceiver)?
    /// Set by the first error: frames already read behind it are dropped, not delivered,
    /// logged or counted again (a flood of bad frames is one violation).
    private var failed = false

    package init(registry: ClusterTransport, budget: OutboundBudget, logger: Logger) {
        self.registry = registry
        self.budget = budget
        self.logger = logger
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let completed = event as? HandshakeCompleted else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        logger[metadataKey: "meridian.peer"] = "\(completed.peer)"
        let connection = PeerConnection(
            peer: completed.peer,
            dialed: completed.dialed,
            channel: context.channel,
            budget: budget,
            packLimit: registry.configuration.fragmentSize
        )
        self.connection = connection
        self.receiver = registry.established(connection)
        logger.debug("cluster connection established", metadata: ["meridian.dialed": "\(completed.dialed)"])
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        guard let connection, let receiver else {
            context.fireErrorCaught(TransportError(.protocolViolation, "message before the handshake completed"))
            return
        }
        let envelope = unwrapInboundIn(data)
        if case .goodbye(let goodbye)? = envelope.kind {
            logger.debug("peer said goodbye", metadata: ["meridian.reason": "\(goodbye.reason)"])
        }
        receiver.receive(envelope, on: connection)
    }

    package func channelInactive(context: ChannelHandlerContext) {
        if let connection {
            registry.closed(connection)
            logger.debug("cluster connection closed")
        }
        connection = nil
        receiver = nil
        context.fireChannelInactive()
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !failed else { return }
        failed = true
        let transportError = error as? TransportError
        let reason: Meridian_Cluster_V1_Reject.Reason =
            switch transportError?.code {
            case .frameTooLarge?: .frameTooLarge
            case .protocolViolation?: .protocolViolation
            default: .unspecified
            }
        logger.warning(
            "closing cluster connection",
            metadata: ["meridian.error": "\(error)", "meridian.remote": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")"]
        )
        if reason != .unspecified, context.channel.isActive {
            var reject = Meridian_Cluster_V1_Reject()
            reject.reason = reason
            reject.message = transportError?.message ?? "\(error)"
            var envelope = Envelope()
            envelope.reject = reject
            if let frame = try? EnvelopeCoding.frame(envelope) {
                budget.force(frame.readableBytes)
                context.writeAndFlush(NIOAny(frame), promise: nil)
            }
        }
        registry.recordError(transportError?.code)
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension PeerChannelHandler: Sendable {}
