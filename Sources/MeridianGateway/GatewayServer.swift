import Foundation
import Logging
import MeridianCatalog
import MeridianCluster
import MeridianGame
import MeridianTopology
import MeridianTransport
import MeridianWire
import NIOCore
import NIOPosix
import SwiftProtobuf
import Synchronization

/// The client-facing TCP endpoint of one node (its topology `gateway:` address).
///
/// Each connection: frames (4-byte length, checked against ``GatewayConfiguration/maxFrameBytes``
/// before anything is buffered) → ``ClientSession`` (protocol state, routing) → ``ClientOutbox``
/// (bounded reliable queue, latest delta only) → one writer. Bad bytes, an unknown version,
/// a flood or a client that stops reading get an Error frame and a close of that connection
/// only.
public final class GatewayServer: Sendable {
    private let context: GatewayContext
    private let server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    private let acceptLoop = Mutex<Task<Void, Never>?>(nil)
    private let membershipWatch = Mutex<Task<Void, Never>?>(nil)

    /// The address the gateway listens on.
    public let address: String

    private init(context: GatewayContext, server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>) {
        self.context = context
        self.server = server
        self.address = server.channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
    }

    /// Starts listening on `host:port` (port 0 picks a free one).
    public static func start(
        host: String, port: Int, system: ClusterSystem, game: GameServices, topology: Topology, catalog: LocalCatalog?,
        configuration: GatewayConfiguration = GatewayConfiguration(), logger: Logger
    ) async throws -> GatewayServer {
        let context = GatewayContext(system: system, game: game, topology: topology, catalog: catalog, configuration: configuration, logger: logger)
        let maxFrame = configuration.maxFrameBytes
        let idle = TimeAmount.nanoseconds(Int64(configuration.idleTimeout.components.seconds) * 1_000_000_000)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                    try channel.pipeline.syncOperations.addHandler(CloseOnIdleHandler())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameSize: maxFrame)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 4, highWatermark: 64))
                    )
                }
            }
        let gateway = GatewayServer(context: context, server: server)
        game.setOnlineClientsProvider { [weak gateway] in gateway?.counters.connections ?? 0 }
        gateway.acceptLoop.withLock { $0 = Task { await gateway.accept() } }
        gateway.membershipWatch.withLock { $0 = Task { await context.router.watchMembership() } }
        logger.info("gateway listening", metadata: ["meridian.gateway": "\(gateway.address)"])
        return gateway
    }

    public var counters: GatewayCounters { context.counters.withLock { $0 } }

    /// Stops accepting and closes every connection.
    public func shutdown() async {
        try? await server.channel.close()
        acceptLoop.withLock { $0 }?.cancel()
        membershipWatch.withLock { $0 }?.cancel()
    }

    private func accept() async {
        await withDiscardingTaskGroup { group in
            do {
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await self.serve(connection) }
                    }
                }
            } catch {
                context.logger.debug("gateway stopped accepting", metadata: ["meridian.error": "\(error)"])
            }
            group.cancelAll()
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let open = context.counters.withLock {
            $0.connections += 1
            $0.accepted += 1
            return $0.connections
        }
        context.metrics.openConnections(open)
        defer { context.metrics.openConnections(context.counters.withLock { $0.connections -= 1; return $0.connections }) }
        let outbox = ClientOutbox(reliableLimit: context.configuration.reliableQueueLimit, inputToDelta: context.metrics.inputToDelta)
        let session = ClientSession(context: context, outbox: outbox)
        let channel = connection.channel
        // Log in within the bound or go.
        let loginTimeout = channel.eventLoop.scheduleTask(in: .seconds(Int64(context.configuration.loginTimeout.components.seconds))) {
            channel.close(promise: nil)
        }
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        while let batch = await outbox.next() {
                            var buffer = channel.allocator.buffer(capacity: 256)
                            for message in batch { try buffer.writeFrame(message) }
                            try await outbound.write(buffer)
                        }
                        // Everything (a closing error frame included) is written. Half-close
                        // first: the client reads the frame, then end-of-file. A full close
                        // while its bytes are still arriving would answer them with a reset,
                        // which can destroy the error frame in the client's receive buffer.
                        // The reader ends when the client closes (or the refusal's grace timer
                        // closes the channel).
                        do {
                            try await channel.close(mode: .output)
                        } catch {
                            try? await channel.close()
                        }
                    }
                    group.addTask {
                        defer { outbox.close() }
                        try await self.read(inbound, session: session, outbox: outbox, loginTimeout: loginTimeout, channel: channel)
                    }
                    try await group.waitForAll()
                }
            }
        } catch {
            context.logger.trace("client connection ended", metadata: ["meridian.error": "\(error)"])
        }
        loginTimeout.cancel()
        await session.connectionClosed()
    }

    private func read(
        _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, session: ClientSession, outbox: ClientOutbox,
        loginTimeout: Scheduled<Void>, channel: any Channel
    ) async throws {
        var limiter = RateLimiter(rate: context.configuration.messagesPerSecond, burst: context.configuration.messageBurst)
        var loggedIn = false
        var refused = false
        do {
            for try await frame in inbound {
                // After a refusal, keep reading (and dropping) until the error frame is out and the
                // writer closes the channel: closing with unread bytes would send a reset that
                // can destroy the error frame on its way to the client.
                if refused { continue }
                do {
                    guard limiter.take() else {
                        throw GatewayError(.rateLimited, "more than \(Int(context.configuration.messagesPerSecond)) messages per second; disconnected")
                    }
                    let message: Meridian_Client_V1_ClientMessage
                    do {
                        message = try Meridian_Client_V1_ClientMessage(serializedBytes: Array(frame.readableBytesView))
                    } catch {
                        throw GatewayError(.malformed, "the frame is not a ClientMessage: \(error)")
                    }
                    do {
                        try await session.handle(message)
                    } catch {
                        guard error.closesConnection else {
                            outbox.send(error.message(requestID: message.requestID))
                            continue
                        }
                        throw error
                    }
                    if !loggedIn, await session.isLoggedIn {
                        loggedIn = true
                        loginTimeout.cancel()
                    }
                    if outbox.isOverflowing {
                        throw GatewayError(.tooSlow, "the client does not read its messages; disconnected")
                    }
                } catch let error as GatewayError {
                    refuse(error, outbox: outbox, channel: channel)
                    refused = true
                }
            }
        } catch let error as TransportError where error.code == .frameTooLarge {
            refuse(GatewayError(.frameTooLarge, error.message), outbox: outbox, channel: channel)
        }
    }

    private func refuse(_ error: GatewayError, outbox: ClientOutbox, channel: any Channel) {
        // A client that does not read its error either is cut off after a grace period.
        channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        context.counters.withLock { $0.refusedConnections["\(error.code)", default: 0] += 1 }
        context.metrics.refused("\(error.code)")
        context.logger.debug("closing a client connection", metadata: ["meridian.error": "\(error)"])
        outbox.sendFinal(error.message(requestID: 0))
    }
}

/// Closes a connection that sent nothing for the idle timeout.
final class CloseOnIdleHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
