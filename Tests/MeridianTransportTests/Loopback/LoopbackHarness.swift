import Atomics  // ClusterTransport.Counters exposes ManagedAtomic; read it here only
import Foundation
import Logging
import MeridianTransport
import MeridianWire
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Tests that open real sockets on 127.0.0.1. They run one at a time (they share a 2-core
/// machine with other builds), with generous deadlines, and never assert on speed.
@Suite("Loopback TCP", .serialized)
enum Loopback {}

/// Records what one transport's delegate sees: connections coming and going, envelopes arriving.
final class Collector: TransportDelegate, PeerMessageReceiver {
    struct Arrival: Sendable {
        var from: String
        var envelope: Envelope
        var at: ContinuousClock.Instant
    }

    private struct State {
        var arrivals: [Arrival] = []
        var established: [PeerConnection] = []
        var closed: [PeerConnection] = []
        var undeliverable: [Envelope] = []
    }

    private let state = Mutex(State())
    private let onReceive: (@Sendable (Envelope, PeerConnection) -> Void)?

    init(onReceive: (@Sendable (Envelope, PeerConnection) -> Void)? = nil) {
        self.onReceive = onReceive
    }

    func connectionEstablished(_ connection: PeerConnection) -> any PeerMessageReceiver {
        state.withLock { $0.established.append(connection) }
        return self
    }

    func connectionClosed(_ connection: PeerConnection) {
        state.withLock { $0.closed.append(connection) }
    }

    func undeliverable(_ envelopes: [Envelope], address: String, error: any Error) {
        state.withLock { $0.undeliverable += envelopes }
    }

    /// Envelopes the transport gave up on because it could not connect.
    var undeliverable: [Envelope] { state.withLock { $0.undeliverable } }

    func receive(_ envelope: Envelope, on connection: PeerConnection) {
        let now = ContinuousClock.now
        state.withLock { $0.arrivals.append(Arrival(from: connection.peer.node, envelope: envelope, at: now)) }
        onReceive?(envelope, connection)
    }

    var arrivals: [Arrival] { state.withLock { $0.arrivals } }
    /// The Calls received, in arrival order (heartbeats are consumed below the receiver).
    var calls: [Meridian_Cluster_V1_Call] { arrivals.compactMap { if case .call(let call)? = $0.envelope.kind { call } else { nil } } }
    var established: [PeerConnection] { state.withLock { $0.established } }
    var closed: [PeerConnection] { state.withLock { $0.closed } }
    /// Connections established and not yet closed.
    var open: [PeerConnection] {
        state.withLock { state in state.established.filter { connection in !state.closed.contains { $0 === connection } } }
    }
}

/// One ClusterTransport on 127.0.0.1, with its collector.
struct TestNode: Sendable {
    var name: String
    var transport: ClusterTransport
    var collector: Collector
    var port: Int
    var address: String { "127.0.0.1:\(port)" }

    func send(_ envelope: Envelope, to other: TestNode) throws {
        try transport.send(envelope, to: other.name, address: other.address)
    }
}

/// An event-loop group plus the transports started on it; everything is shut down at the end.
final class TestCluster: Sendable {
    let group: MultiThreadedEventLoopGroup
    private let started = Mutex<[ClusterTransport]>([])
    private let extraGroups = Mutex<[MultiThreadedEventLoopGroup]>([])

    init(threads: Int) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    }

    static func run(threads: Int = 2, _ body: (TestCluster) async throws -> Void) async throws {
        let cluster = TestCluster(threads: threads)
        do {
            try await body(cluster)
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    private func shutdown() async {
        for transport in started.withLock({ $0 }) { await transport.shutdown() }
        for extra in extraGroups.withLock({ $0 }) { try? await extra.shutdownGracefully() }
        try? await group.shutdownGracefully()
    }

    /// Another event-loop group, for a node whose loop the test wants to stall on its own.
    func makeGroup(threads: Int = 1) -> MultiThreadedEventLoopGroup {
        let extra = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        extraGroups.withLock { $0.append(extra) }
        return extra
    }

    /// The test default: production values, except quick reconnects and a roomy handshake.
    static var configuration: TransportConfiguration {
        var configuration = TransportConfiguration()
        configuration.handshakeTimeout = .seconds(10)
        configuration.reconnectBackoff.initial = .milliseconds(20)
        configuration.reconnectBackoff.maximum = .milliseconds(250)
        return configuration
    }

    /// Starts a transport for `name`, bound to a free port (or to `port`, retried until free).
    func start(
        _ name: String,
        region: String = "r1",
        incarnation: UInt64 = 1,
        configuration: TransportConfiguration = TestCluster.configuration,
        cluster: String = Fixtures.cluster,
        secret: ClusterSecret = Fixtures.secret,
        emulation: LinkEmulation? = nil,
        port fixedPort: Int? = nil,
        group: MultiThreadedEventLoopGroup? = nil,
        onReceive: (@Sendable (Envelope, PeerConnection) -> Void)? = nil
    ) async throws -> TestNode {
        var lastError: (any Error)?
        for _ in 0..<50 {
            let port: Int
            if let fixedPort { port = fixedPort } else { port = try await freeTCPPort() }
            let local = LocalHandshakeInfo(
                cluster: cluster,
                identity: PeerIdentity(node: name, incarnation: incarnation, region: region, address: "127.0.0.1:\(port)"),
                topologyVersion: 1,
                secret: secret
            )
            let transport = ClusterTransport(configuration: configuration, local: local, group: group ?? self.group, emulation: emulation, logger: Fixtures.logger)
            let collector = Collector(onReceive: onReceive)
            transport.setDelegate(collector)
            do {
                try await transport.bind(host: "127.0.0.1", port: port)
                started.withLock { $0.append(transport) }
                return TestNode(name: name, transport: transport, collector: collector, port: port)
            } catch {
                lastError = error  // someone else took the port in the meantime: try again
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        throw lastError!
    }

    /// A plain TCP client that records every byte it receives and speaks only when told to.
    func rawClient(port: Int) async throws -> RawClient {
        let sink = ByteSink()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RecordingHandler(sink: sink))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return RawClient(channel: channel, sink: sink)
    }

    /// A server that accepts connections and never reads or writes.
    func silentServer() async throws -> (any Channel, Int) {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return (channel, channel.localAddress!.port!)
    }
}

struct RawClient: Sendable {
    var channel: any Channel
    var sink: ByteSink

    func write(_ buffer: ByteBuffer) async {
        // The server may already have closed on us: a failed write is part of the test.
        try? await channel.writeAndFlush(buffer)
    }

    /// Waits until the server closed the connection (true) or `timeout` passed (false).
    func closedByServer(within timeout: Duration = .seconds(20)) async -> Bool {
        await eventually(within: timeout) { !channel.isActive }
    }

    /// What the server sent before closing.
    func receivedEnvelopes() -> [Envelope] {
        (try? decodeFrames(sink.bytes)) ?? []
    }
}

final class ByteSink: Sendable {
    private let buffer = Mutex(ByteBuffer())
    func append(_ bytes: ByteBuffer) { buffer.withLock { _ = $0.writeImmutableBuffer(bytes) } }
    var bytes: ByteBuffer { buffer.withLock { $0 } }
}

final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let sink: ByteSink

    init(sink: ByteSink) { self.sink = sink }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        sink.append(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)  // e.g. a reset from a server that closed with our bytes unread
    }
}

@available(*, unavailable)
extension RecordingHandler: Sendable {}

extension ClusterTransport.Counters {
    var snapshot: (frameTooLarge: Int, protocolViolations: Int, authenticationFailures: Int, other: Int) {
        (frameTooLarge.load(ordering: .relaxed), protocolViolations.load(ordering: .relaxed),
         authenticationFailures.load(ordering: .relaxed), otherErrors.load(ordering: .relaxed))
    }
}
