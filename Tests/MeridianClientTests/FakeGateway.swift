import Logging
import MeridianClient
import MeridianTransport
import MeridianWire
import NIOCore
import NIOPosix
import Synchronization

/// A tiny real TCP gateway double: decodes client frames and lets each test script the replies.
final class FakeGateway: Sendable {
    /// The server side of one client connection.
    struct Peer: Sendable {
        let channel: any Channel

        func send(_ message: ServerMessage) {
            let frame = try! ClientFraming.frame(message)
            channel.writeAndFlush(frame, promise: nil)
        }

        func sendRaw(_ buffer: ByteBuffer) {
            channel.writeAndFlush(buffer, promise: nil)
        }

        func close() {
            channel.close(promise: nil)
        }
    }

    typealias Script = @Sendable (ClientMessage, Peer) -> Void

    let channel: any Channel
    let box: Box
    var port: Int { channel.localAddress!.port! }

    private init(channel: any Channel, box: Box) {
        self.channel = channel
        self.box = box
    }

    static func start(group: any EventLoopGroup, script: @escaping Script) async throws -> FakeGateway {
        let box = Box()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder(maxFrameSize: 1 << 20)),
                        FakeGatewayHandler(box: box, script: script)
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return FakeGateway(channel: channel, box: box)
    }

    func stop() async {
        try? await channel.close()
    }

    func receivedBodies() -> [ClientMessage.OneOf_Body] {
        box.received.withLock { $0.compactMap(\.body) }
    }
}

final class Box: Sendable {
    let received = Mutex<[ClientMessage]>([])
    let peers = Mutex<[String]>([])
}

final class FakeGatewayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let box: Box
    let script: FakeGateway.Script

    init(box: Box, script: @escaping FakeGateway.Script) {
        self.box = box
        self.script = script
    }

    func channelActive(context: ChannelHandlerContext) {
        let address = context.channel.remoteAddress?.ipAddress ?? "?"
        box.peers.withLock { $0.append(address) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let message = try? ClientFraming.decodeClientMessage(unwrapInboundIn(data)) else {
            context.close(promise: nil)
            return
        }
        box.received.withLock { $0.append(message) }
        script(message, FakeGateway.Peer(channel: context.channel))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Replies for the usual requests; scripts add what their test is about.
enum Reply {
    static func welcome(_ request: ClientMessage, region: String = "eu-west", node: String = "eu-west-1") -> ServerMessage {
        var welcome = Meridian_Client_V1_Welcome()
        welcome.protocolVersion = 1
        welcome.region = region
        welcome.node = node
        welcome.maxFrameBytes = 65_536
        return message(request.requestID, .welcome(welcome))
    }

    static func pong(_ request: ClientMessage) -> ServerMessage {
        var pong = Meridian_Client_V1_Pong()
        pong.clientTimeUs = request.ping.clientTimeUs
        pong.serverTimeUs = 42
        return message(request.requestID, .pong(pong))
    }

    static func message(_ requestID: UInt64, _ body: ServerMessage.OneOf_Body) -> ServerMessage {
        var message = ServerMessage()
        message.requestID = requestID
        message.body = body
        return message
    }

    /// Answers hello and ping; returns true when it did.
    static func basics(_ request: ClientMessage, _ peer: FakeGateway.Peer, region: String = "eu-west") -> Bool {
        switch request.body {
        case .hello: peer.send(welcome(request, region: region, node: "\(region)-1"))
        case .ping: peer.send(pong(request))
        default: return false
        }
        return true
    }
}

func testLogger() -> Logger {
    var logger = Logger(label: "meridian.client.tests")
    logger.logLevel = .critical
    return logger
}

/// Collects a client's events (an AsyncStream has one consumer, and cancelling it ends the stream).
final class EventRecorder: Sendable {
    final class Storage: Sendable { let events = Mutex<[GameEvent]>([]) }
    let storage = Storage()
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<GameEvent>) {
        let storage = self.storage
        task = Task { for await event in stream { storage.events.withLock { $0.append(event) } } }
    }

    deinit { task.cancel() }

    /// Waits until an event matches, polling; nil after `timeout`.
    /// The first recorded event matching `predicate`; the timeout is a safety net (it returns as
    /// soon as the event is there), generous for a loaded 2-core machine.
    func first(timeout: Duration = .seconds(60), where predicate: (GameEvent) -> Bool) async -> GameEvent? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = storage.events.withLock({ $0.first(where: predicate) }) { return found }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }
}

/// Polls `condition` until true or `timeout` (a safety net, generous for a loaded 2-core machine).
func eventually(timeout: Duration = .seconds(60), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}
