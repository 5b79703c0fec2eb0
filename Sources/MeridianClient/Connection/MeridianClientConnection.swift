import Logging
import MeridianTransport
import MeridianWire
import NIOCore
import NIOPosix

/// One TCP connection to a gateway: request/response correlation by request id with
/// timeouts, pushes (request id 0) to a callback or stream, clean close, and the reason the
/// connection ended.
///
/// Cheap by design — a load generator holds thousands per process on one shared
/// `EventLoopGroup`: no thread or task per connection, and the state lives in the channel
/// handler on the connection's event loop.
package final class MeridianClientConnection: Sendable {
    private let channel: any Channel
    private let configuration: ClientConnectionConfiguration
    /// Pushes, when ``connect(host:port:group:configuration:logger:onPush:onClose:)`` was not
    /// given an `onPush` callback; finishes when the connection closes.
    package let pushes: AsyncStream<ServerMessage>
    /// Completes (never fails) with why the connection closed.
    package let closeReason: EventLoopFuture<MeridianClientError>

    private init(channel: any Channel, configuration: ClientConnectionConfiguration, pushes: AsyncStream<ServerMessage>, closeReason: EventLoopFuture<MeridianClientError>) {
        self.channel = channel
        self.configuration = configuration
        self.pushes = pushes
        self.closeReason = closeReason
    }

    /// Dials `host:port` on `group`.
    ///
    /// - Parameters:
    ///   - onPush: Called on the connection's event loop for every message with request id 0.
    ///     When nil, pushes go to ``pushes`` instead.
    ///   - onClose: Called once on the event loop with the reason the connection ended.
    ///   - received: Counts the bytes received, when given.
    package static func connect(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        configuration: ClientConnectionConfiguration = ClientConnectionConfiguration(),
        logger: Logger,
        received: ByteCounter? = nil,
        onPush: (@Sendable (ServerMessage) -> Void)? = nil,
        onClose: (@Sendable (MeridianClientError) -> Void)? = nil
    ) async throws(MeridianClientError) -> MeridianClientConnection {
        let eventLoop = group.next()
        let closed = eventLoop.makePromise(of: MeridianClientError.self)
        let (stream, continuation): (AsyncStream<ServerMessage>, AsyncStream<ServerMessage>.Continuation)
        if onPush == nil {
            (stream, continuation) = AsyncStream.makeStream(of: ServerMessage.self, bufferingPolicy: .unbounded)
        } else {
            (stream, continuation) = AsyncStream.makeStream(of: ServerMessage.self, bufferingPolicy: .bufferingNewest(0))
            continuation.finish()
        }
        let push: @Sendable (ServerMessage) -> Void = onPush ?? { continuation.yield($0) }
        let close: @Sendable (MeridianClientError) -> Void = { reason in
            continuation.finish()
            closed.succeed(reason)
            onClose?(reason)
        }
        var logger = logger
        logger[metadataKey: "meridian.gateway"] = "\(host):\(port)"
        let connectionLogger = logger

        var bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = configuration.tls {
                        try channel.pipeline.syncOperations.addHandler(try tls.handler(host: host))
                    } else {
                        try channel.pipeline.syncOperations.addHandler(TLSAnswerDetector())
                    }
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder(maxFrameSize: configuration.maxInboundFrameBytes)),
                        ClientChannelHandler(
                            delay: TimeAmount(configuration.simulatedOneWayDelay), logger: connectionLogger, received: received,
                            onPush: push, onClose: close
                        )
                    )
                }
            }
        if let localAddress = configuration.localAddress {
            do {
                bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: localAddress, port: 0))
            } catch {
                let failure = MeridianClientError(.connectFailed, "local address \(localAddress) is not an IP address (\(error)); pass e.g. 127.0.0.2")
                continuation.finish()
                closed.succeed(failure)
                throw failure
            }
        }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            let failure = MeridianClientError(.connectFailed, "could not connect to the gateway at \(host):\(port) (\(error)); check the address and that the gateway runs, or try another gateway of the region")
            continuation.finish()
            // Completed here (a later completion by the handler is ignored) so it never leaks.
            closed.succeed(failure)
            throw failure
        }
        logger.debug("connected to the gateway")
        return MeridianClientConnection(channel: channel, configuration: configuration, pushes: stream, closeReason: closed.futureResult)
    }

    /// Sends `body` and waits for the reply with the same request id.
    ///
    /// Throws ``MeridianClientError/Code/server`` when the gateway answers `Error`,
    /// ``MeridianClientError/Code/timeout`` after `timeout` (default: the configuration's),
    /// ``MeridianClientError/Code/connectionClosed`` when the connection ends first, and
    /// ``MeridianClientError/Code/cancelled`` at once when the calling task is cancelled.
    package func request(_ body: ClientMessage.OneOf_Body, timeout: Duration? = nil) async throws(MeridianClientError) -> ServerMessage {
        let reply = channel.eventLoop.makePromise(of: ServerMessage.self)
        var message = ClientMessage()
        message.body = body
        let request = OutboundRequest(message: message, reply: reply, timeout: TimeAmount(timeout ?? configuration.requestTimeout))
        // On a channel that closed meanwhile the write never reaches the handler that answers
        // or times out requests: its failure must fail the reply, or this would wait forever.
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { error in
            reply.fail(MeridianClientError(.connectionClosed, "the request could not be sent (\(error)); reconnect"))
        }
        channel.writeAndFlush(request, promise: written)
        do {
            // A cancelled caller stops waiting at once (a late reply is then ignored): a task
            // that gave up must not sit out the request timeout.
            return try await withTaskCancellationHandler {
                try await reply.futureResult.get()
            } onCancel: {
                reply.fail(MeridianClientError(.cancelled, "the request was cancelled before its reply arrived"))
            }
        } catch let error as MeridianClientError {
            throw error
        } catch {
            throw MeridianClientError(.connectionClosed, "the request could not be sent (\(error)); reconnect")
        }
    }

    /// Sends a message that has no reply (inputs, acks). Fire and forget: a failure shows up
    /// as the connection closing.
    package func send(_ body: ClientMessage.OneOf_Body) {
        var message = ClientMessage()
        message.body = body
        channel.writeAndFlush(OutboundRequest(message: message, reply: nil, timeout: .zero), promise: nil)
    }

    /// Runs `task` on the connection's event loop after `delay`.
    package func schedule(in delay: Duration, _ task: @escaping @Sendable () -> Void) {
        channel.eventLoop.scheduleTask(in: TimeAmount(delay), task)
    }

    /// Changes the simulated one-way delay (e.g. once `Welcome` revealed the gateway's region).
    package func setSimulatedOneWayDelay(_ delay: Duration) {
        channel.triggerUserOutboundEvent(SetSimulatedDelay(delay: TimeAmount(delay)), promise: nil)
    }

    /// Whether the connection is still open.
    package var isActive: Bool { channel.isActive }

    /// Starts closing the connection and returns at once.
    package func closeWithoutWaiting() {
        channel.close(promise: nil)
    }

    /// Closes the connection; outstanding requests fail with ``MeridianClientError/Code/connectionClosed``.
    /// Returns once the connection is closed.
    package func close() async {
        try? await channel.close()
        _ = try? await closeReason.get()
    }
}
