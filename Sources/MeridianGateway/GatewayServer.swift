import Foundation
import Logging
import MeridianCatalog
import MeridianCluster
import MeridianGame
import MeridianIdentity
import MeridianMembership
import MeridianStorage
import MeridianTopology
import MeridianTransport
import MeridianWire
import NIOCore
import NIOPosix
import NIOSSL
import SwiftProtobuf
import Synchronization

/// The client-facing TCP endpoint of one node (its topology `gateway:` address).
///
/// Each connection: frames (4-byte length, checked against ``GatewayConfiguration/maxFrameBytes``
/// before anything is buffered) → ``ClientSession`` (protocol state, routing) → ``ClientOutbox``
/// (bounded reliable queue, latest delta only) → ``ClientWriteHandler`` on the event loop. Bad
/// bytes, an unknown version, a flood or a client that stops reading get an Error frame and a
/// close of that connection only.
///
/// Memory per connection is what bounds a node's clients, so a connection holds one task (its
/// reader) and that task's stack stays shallow: see ``onItsOwnStack(_:)``.
public final class GatewayServer: Sendable {
    /// One accepted connection: its inbound frames, and the outbox its write handler drains.
    private struct Connection: Sendable {
        var channel: NIOAsyncChannel<ByteBuffer, Never>
        var outbox: ClientOutbox
        var session: ClientSession
    }

    private let context: GatewayContext
    private let server: NIOAsyncChannel<Connection, Never>
    private let acceptLoop = Mutex<Task<Void, Never>?>(nil)
    private let membershipWatch = Mutex<Task<Void, Never>?>(nil)
    private let identityWatch = Mutex<Task<Void, Never>?>(nil)
    /// Every connection being served, for ``drain(timeout:)``.
    private let open = OpenConnections()

    /// The address the gateway listens on.
    public let address: String

    private init(context: GatewayContext, server: NIOAsyncChannel<Connection, Never>) {
        self.context = context
        self.server = server
        self.address = server.channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
    }

    /// Starts listening on `host:port` (port 0 picks a free one).
    public static func start(
        host: String, port: Int, system: ClusterSystem, game: GameServices, identity: IdentityNode, catalog: LocalCatalog?,
        configuration: GatewayConfiguration = GatewayConfiguration(), logger: Logger
    ) async throws -> GatewayServer {
        let context = GatewayContext(
            system: system, game: game, identity: identity, catalog: catalog, configuration: configuration, logger: logger
        )
        let maxFrame = configuration.maxFrameBytes
        let idle = TimeAmount(configuration.idleTimeout)
        let (reliableLimit, reliableBytes) = (configuration.reliableQueueLimit, configuration.reliableQueueBytes)
        let inputToDelta = context.metrics.inputToDelta
        let tls = configuration.tls
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Client messages are small: start reads small (each idle connection keeps its last
            // read buffer) and let the allocator grow for a client that sends more.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 65_536))
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let outbox = ClientOutbox(reliableLimit: reliableLimit, reliableByteLimit: reliableBytes, inputToDelta: inputToDelta)
                    let source = channel.remoteAddress?.ipAddress ?? "unknown"
                    let session = ClientSession(context: context, outbox: outbox, source: source) { [context] error in
                        Self.refuse(error, outbox: outbox, channel: channel, context: context)
                    }
                    let writer = ClientWriteHandler(outbox: outbox, eventLoop: channel.eventLoop)
                    if let tls {
                        // First, so that nothing else sees a byte before the TLS handshake; the
                        // idle timeout below also bounds a client that never completes it.
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
                    }
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                    try channel.pipeline.syncOperations.addHandler(CloseOnIdleHandler())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameSize: maxFrame)))
                    try channel.pipeline.syncOperations.addHandler(ClientInputHandler(session: session))
                    try channel.pipeline.syncOperations.addHandler(writer)
                    let inbound = try NIOAsyncChannel<ByteBuffer, Never>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 4, highWatermark: 64))
                    )
                    return Connection(channel: inbound, outbox: outbox, session: session)
                }
            }
        let gateway = GatewayServer(context: context, server: server)
        game.setOnlineClientsProvider { [weak gateway] in gateway?.counters.connections ?? 0 }
        gateway.acceptLoop.withLock { $0 = Task { await gateway.accept() } }
        gateway.membershipWatch.withLock {
            $0 = Task {
                async let feeds: Void = context.router.watchMembership()
                async let homes: Void = context.sessionChanges.watchMembership(system.membership)
                _ = await (feeds, homes)
            }
        }
        let events = identity.subscribe()
        gateway.identityWatch.withLock { $0 = Task { await Self.follow(events, context: context) } }
        logger.info("gateway listening", metadata: ["meridian.gateway": "\(gateway.address)"])
        return gateway
    }

    public var counters: GatewayCounters { context.counters.withLock { $0 } }

    /// How many feed messages (and player packets in them) `matchID` sent this gateway so far,
    /// while the match has players here.
    package func feedCounts(of matchID: UUID) -> (frames: Int, packets: Int, repeatedTicks: Int)? {
        context.router.counts(of: matchID).map { ($0.frames, $0.packets, $0.repeatedTicks) }
    }

    /// Leaves gently: stops accepting, tells every client where to resume — a `Redirect` push
    /// naming the other gateways that are up, this region's first — and waits until the clients
    /// have moved (they resume their sessions there with their tokens; a running match goes on)
    /// or `timeout` passed; then closes what is left.
    public func drain(timeout: Duration = .seconds(5)) async {
        try? await server.channel.close()
        var message = Meridian_Client_V1_ServerMessage()
        message.redirect.gateways = alternatives()
        message.redirect.reason = "the gateway on \(context.system.nodeID) is leaving"
        let connections = open.all
        context.logger.info("draining the gateway", metadata: [
            "meridian.clients": "\(connections.count)", "meridian.redirect": "\(message.redirect.gateways.joined(separator: ","))",
        ])
        for connection in connections {
            connection.session.link.withLock { $0.handedOver = true }
            // Not a final message: the client closes this connection itself once it resumed
            // elsewhere. Closing it from here, with the client's inputs still unread, would
            // send a reset that can destroy the redirect on its way.
            _ = connection.outbox.send(message)
        }
        if timeout > .zero {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.open.untilEmpty() }
                group.addTask { [clock = context.system.clock] in try? await clock.sleep(for: timeout) }
                await group.next()
                group.cancelAll()
            }
        }
        await shutdown()
    }

    /// The gateways a draining one sends its clients to: the up nodes' `gateway:` addresses,
    /// this region's first.
    private func alternatives() -> [String] {
        let up = Set(context.system.membership.members.filter { $0.status == .up }.map(\.id.node))
        let others = context.topology.nodes.filter { $0.id != context.system.nodeID && up.contains($0.id) }
        let ordered = others.filter { $0.region == context.region } + others.filter { $0.region != context.region }
        return ordered.map(\.gateway.description)
    }

    /// Stops accepting and closes every connection.
    public func shutdown() async {
        try? await server.channel.close()
        acceptLoop.withLock { $0 }?.cancel()
        membershipWatch.withLock { $0 }?.cancel()
        identityWatch.withLock { $0 }?.cancel()
    }

    /// Closes the connections the identity layer ended: a banned player's, a revoked login's.
    private static func follow(_ events: AsyncStream<IdentityEvent>, context: GatewayContext) async {
        for await event in events {
            switch event {
            case .directoryChanged(let entry) where entry.state == .banned:
                context.sessionChanges.close(player: entry.player, with: GatewayError(.banned, "this account is banned"))
            case .directoryChanged(let entry):
                context.sessionChanges.homeChanged(of: entry.player, to: entry.homeRegion, epoch: entry.epoch)
            case .sessionsRevoked(let logins):
                context.sessionChanges.close(logins: Set(logins), with: GatewayError(.loggedOut, "this login was ended; log in again"))
            }
        }
    }

    /// Connections are served in ``connectionShards`` task groups rather than one: Swift 6.3's
    /// runtime keeps a group's children in a singly linked list, so every ending child task
    /// costs a scan of its siblings (swiftlang/swift#71212, fixed by swiftlang/swift#87887 in a
    /// later release). With one group, at 15,000 open connections the scans alone saturated
    /// both cores whenever short connections (locate, RTT probes) ended.
    static let connectionShards = 128

    private func accept() async {
        let shards = (0..<Self.connectionShards).map { _ in AsyncStream.makeStream(of: Connection.self) }
        await withDiscardingTaskGroup { group in
            for shard in shards {
                group.addTask {
                    await withDiscardingTaskGroup { connections in
                        for await connection in shard.stream {
                            connections.addTask { await self.serve(connection) }
                        }
                    }
                }
            }
            do {
                try await server.executeThenClose { accepted in
                    var next = 0
                    for try await connection in accepted {
                        shards[next].continuation.yield(connection)
                        next = (next + 1) % shards.count
                    }
                }
            } catch {
                context.logger.debug("gateway stopped accepting", metadata: ["meridian.error": "\(error)"])
            }
            // No new connection; those open go on until they end or ``shutdown()`` cancels this
            // task (a drain closes the listener first and lets its clients leave on their own).
            for shard in shards { shard.continuation.finish() }
        }
    }

    private func serve(_ connection: Connection) async {
        let open = context.counters.withLock {
            $0.connections += 1
            $0.accepted += 1
            return $0.connections
        }
        context.metrics.openConnections(open)
        defer { context.metrics.openConnections(context.counters.withLock { $0.connections -= 1; return $0.connections }) }
        let outbox = connection.outbox
        let channel = connection.channel.channel
        self.open.add(.init(outbox: outbox, channel: channel, session: connection.session))
        defer { self.open.remove(channel) }
        let session = connection.session
        let source = session.source
        if let refusal = context.admission.withLock({ $0.admit(source) }) {
            // Over a connection limit: say so and close, before any of this connection's bytes are read.
            refuse(refusal, outbox: outbox, channel: channel)
            try? await connection.channel.executeThenClose { inbound, _ in
                defer { outbox.close() }
                for try await _ in inbound {}
            }
            return
        }
        defer { context.admission.withLock { $0.release(source) } }
        // Log in within the bound or go.
        let loginTimeout = channel.eventLoop.scheduleTask(in: TimeAmount(context.configuration.loginTimeout)) {
            channel.close(promise: nil)
        }
        do {
            try await connection.channel.executeThenClose { inbound, _ in
                // After the reader: whatever is queued (a closing error frame included) goes out
                // before the channel closes — the write handler's drain reaches the event loop
                // ahead of the close that follows.
                defer { outbox.close() }
                try await self.read(inbound, session: session, outbox: outbox, loginTimeout: loginTimeout, channel: channel)
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
        var loggedIn = false
        var refused = false
        do {
            for try await frame in inbound {
                // After a refusal, keep reading (and dropping) until the error frame is out and the
                // writer closes the channel: closing with unread bytes would send a reset that
                // can destroy the error frame on its way to the client.
                if refused { continue }
                do {
                    guard session.messageLimit.withLock({ $0.take(now: .now) }) else {
                        throw GatewayError(.rateLimited, "more than \(Int(context.configuration.messagesPerSecond)) messages per second; disconnected")
                    }
                    let message = try ClientFrames.message(frame)
                    do {
                        if try !session.answerDirectly(message) {
                            try await Self.onItsOwnStack { () async throws(GatewayError) in try await session.handle(message) }
                        }
                    } catch {
                        guard error.closesConnection else {
                            outbox.send(error.message(requestID: message.requestID))
                            continue
                        }
                        throw error
                    }
                    if !loggedIn, session.isLoggedIn {
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

    /// Runs `body` in a child task that ends with it.
    ///
    /// The reader's task lives as long as its connection, and Swift's task allocator keeps the
    /// slabs of a task's deepest async stack until the task ends. The calls into the cluster
    /// (a login, say) are several KB deep; on the reader they would cost every idle connection
    /// that much for good. On a child task the stack is freed when the call returns.
    private static func onItsOwnStack(_ body: @escaping @Sendable () async throws(GatewayError) -> Void) async throws(GatewayError) {
        let result = await withTaskGroup(of: Result<Void, GatewayError>.self) { group in
            group.addTask {
                do throws(GatewayError) {
                    try await body()
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            return await group.next() ?? .success(())
        }
        try result.get()
    }

    private func refuse(_ error: GatewayError, outbox: ClientOutbox, channel: any Channel) {
        Self.refuse(error, outbox: outbox, channel: channel, context: context)
    }

    /// Sends `error` as the connection's last message and closes it.
    private static func refuse(_ error: GatewayError, outbox: ClientOutbox, channel: any Channel, context: GatewayContext) {
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
