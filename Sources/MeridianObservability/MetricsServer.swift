import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import Synchronization

/// A small HTTP/1.1 server for Prometheus: `GET /metrics` answers the registry's text exposition,
/// any other path 404, any other method on `/metrics` 405.
///
/// ```swift
/// let server = try await MetricsServer.start(.init(host: "127.0.0.1", port: 9401), registry: registry, logger: logger)
/// …
/// await server.shutdown()
/// ```
///
/// Requests are bounded (``Configuration/maximumHeadBytes``, ``Configuration/maximumBodyBytes``): a
/// request that is too large or does not parse gets a 4xx and its connection is closed. The exposition
/// is rendered in Swift Concurrency, never on an event loop; idle connections are closed after
/// ``Configuration/idleTimeout``, and at most ``Configuration/maximumConnections`` are served at once.
package final class MetricsServer: Sendable {
    /// Where and how to serve.
    package struct Configuration: Sendable {
        /// Host or address to listen on, e.g. `127.0.0.1`.
        package var host: String
        /// Port; 0 picks a free one (see ``MetricsServer/port``).
        package var port: Int
        /// Largest request line plus headers, in bytes. Default 8 KiB: a scrape sends a few hundred.
        package var maximumHeadBytes = 8 * 1024
        /// Largest request body, in bytes. Default 1 KiB: a scrape sends none.
        package var maximumBodyBytes = 1024
        /// A connection that sends nothing for this long is closed. Default 60 s, above the usual
        /// scrape interval so a scraper's keep-alive connection survives between scrapes.
        package var idleTimeout: Duration = .seconds(60)
        /// Connections served at once; further ones are closed on accept. Default 32.
        package var maximumConnections = 32

        package init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    private typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// The port it listens on (the bound one when ``Configuration/port`` was 0).
    package let port: Int
    /// `host:port` it listens on.
    package let address: String
    private let channel: any Channel
    private let serving: Task<Void, Never>

    private init(port: Int, address: String, channel: any Channel, serving: Task<Void, Never>) {
        self.port = port
        self.address = address
        self.channel = channel
        self.serving = serving
    }

    /// Binds the listener and starts serving; returns once it accepts connections.
    /// - Throws: ``MetricsServerError`` (``MetricsServerError/Code/bindFailed``).
    package static func start(
        _ configuration: Configuration,
        registry: PrometheusCollectorRegistry,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> MetricsServer {
        let limits = {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = configuration.maximumHeadBytes
            limits.maxHeaderListSize = configuration.maximumHeadBytes
            limits.maxHeaderFieldCount = 100
            return limits
        }()
        let idleTimeout = TimeAmount(configuration.idleTimeout)
        let requested = Self.address(host: configuration.host, port: configuration.port)
        let server: NIOAsyncChannel<Connection, Never>
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                        try pipeline.addHandler(CloseOnIdleHandler())
                        // Parse errors (garbage, a head over the limits) get a 400 and a close from
                        // the error handler; the pipelining handler answers requests in order.
                        try pipeline.configureHTTPServerPipeline(
                            withPipeliningAssistance: true,
                            withErrorHandling: true,
                            withOutboundHeaderValidation: true,
                            withEncoderConfiguration: .init(),
                            withDecoderLimitConfiguration: limits
                        )
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw MetricsServerError(.bindFailed, address: requested, underlying: error)
        }
        let port = server.channel.localAddress?.port ?? configuration.port
        let address = Self.address(host: configuration.host, port: port)
        var logger = logger
        logger[metadataKey: "meridian.metrics.address"] = "\(address)"
        let serving = Task {
            await serve(server, registry: registry, configuration: configuration, logger: logger)
        }
        logger.info("serving metrics", metadata: ["meridian.metrics.url": "http://\(address)\(MetricsRoute.path)"])
        return MetricsServer(port: port, address: address, channel: server.channel, serving: serving)
    }

    /// `host:port`, an IPv6 host in brackets.
    private static func address(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Stops listening, closes every connection and waits until they are closed.
    package func shutdown() async {
        serving.cancel()
        try? await channel.close()
        await serving.value
    }

    // MARK: Serving

    /// Accepts connections until cancelled or the listener closes; one child task per connection.
    private static func serve(
        _ server: NIOAsyncChannel<Connection, Never>,
        registry: PrometheusCollectorRegistry,
        configuration: Configuration,
        logger: Logger
    ) async {
        let open = OpenConnections()
        do {
            try await server.executeThenClose { connections in
                await withDiscardingTaskGroup { group in
                    do {
                        for try await connection in connections {
                            guard open.admit(limit: configuration.maximumConnections) else {
                                logger.debug("metrics connection refused: too many open")
                                // Through the async channel, which must be finished before it goes.
                                try? await connection.executeThenClose { _, _ in }
                                continue
                            }
                            group.addTask {
                                defer { open.release() }
                                await serve(connection, registry: registry, configuration: configuration, logger: logger)
                            }
                        }
                    } catch {
                        logger.debug("metrics listener stopped", metadata: ["meridian.error": "\(error)"])
                    }
                    // Shutting down: do not wait for scrapers' idle keep-alive connections.
                    group.cancelAll()
                }
            }
        } catch {
            logger.debug("metrics listener closed with an error", metadata: ["meridian.error": "\(error)"])
        }
    }

    /// Answers one connection's requests in order until it closes, asks to close, or misbehaves.
    private static func serve(
        _ connection: Connection,
        registry: PrometheusCollectorRegistry,
        configuration: Configuration,
        logger: Logger
    ) async {
        do {
            try await connection.executeThenClose { requests, responses in
                var head: HTTPRequestHead?
                var bodyBytes = 0
                for try await part in requests {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        bodyBytes = 0
                    case .body(let chunk):
                        bodyBytes += chunk.readableBytes
                        if bodyBytes > configuration.maximumBodyBytes {
                            // Answer now and close: reading the rest would only waste the effort.
                            try await respond(.payloadTooLarge, body: nil, keepAlive: false, to: responses)
                            return
                        }
                    case .end:
                        guard let request = head else { return }
                        head = nil
                        let keepAlive = request.isKeepAlive
                        let route = MetricsRoute(method: request.method, uri: request.uri)
                        switch route {
                        case .metrics(let includeBody):
                            let exposition = registry.emitToBuffer()
                            try await respond(.ok, body: exposition, includeBody: includeBody, keepAlive: keepAlive, to: responses)
                        case .notFound, .methodNotAllowed:
                            try await respond(route.status, body: nil, keepAlive: keepAlive, to: responses)
                        }
                        guard keepAlive else { return }
                    }
                }
            }
        } catch {
            // Parse errors were answered with a 400 by the pipeline; resets and timeouts need no answer.
            logger.debug("metrics connection closed", metadata: ["meridian.error": "\(error)"])
        }
    }

    private static func respond(
        _ status: HTTPResponseStatus,
        body: [UInt8]?,
        includeBody: Bool = true,
        keepAlive: Bool,
        to responses: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        let bytes = body ?? Array("\(status.code) \(status.reasonPhrase)\n".utf8)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: body == nil ? "text/plain; charset=utf-8" : "text/plain; version=0.0.4; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(bytes.count)")
        if status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        try await responses.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
        if includeBody { try await responses.write(.body(.byteBuffer(ByteBuffer(bytes: bytes)))) }
        try await responses.write(.end(nil))
    }
}

/// How many connections are being served.
private final class OpenConnections: Sendable {
    private let count = Atomic<Int>(0)

    /// Counts one more connection unless `limit` are open; returns whether it did.
    func admit(limit: Int) -> Bool {
        guard count.add(1, ordering: .relaxed).newValue <= limit else {
            count.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func release() {
        count.subtract(1, ordering: .relaxed)
    }
}

/// Closes a connection that stayed silent for the `IdleStateHandler`'s read timeout.
private final class CloseOnIdleHandler: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

@available(*, unavailable)
extension CloseOnIdleHandler: Sendable {}
