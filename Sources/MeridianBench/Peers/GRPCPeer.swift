import GRPCCore
import GRPCNIOTransportHTTP2
import NIOPosix

/// The mainstream peer: grpc-swift-2 unary calls of `meridian.bench.Echo/Echo` over plaintext
/// HTTP/2 (NIO Posix transport), server and client with grpc-swift's default settings.
///
/// `coalesceFlushes` (on by default, as in grpc-swift-nio-transport) delays each flush by up to
/// 100 µs to batch writes: better throughput under load, slower lone calls. Turn it off on both
/// ends to see gRPC's best latency at 1 in flight.
package enum GRPCPeer {
    /// Starts the echo service on `host:port` (an IP address; port 0: the OS picks one, see
    /// ``PeerServer/port``).
    ///
    /// ``PeerServer/close()`` shuts the server down gracefully and waits until it has stopped.
    package static func runServer(
        host: String,
        port: Int,
        coalesceFlushes: Bool = true,
        eventLoopGroup: MultiThreadedEventLoopGroup = .singleton
    ) async throws -> PeerServer {
        var config = HTTP2ServerTransport.Posix.Config.defaults
        if !coalesceFlushes {
            config.connection.flushCoalescing = nil
        }
        let server = GRPCServer(
            transport: HTTP2ServerTransport.Posix(
                address: host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port),
                transportSecurity: .plaintext,
                config: config,
                eventLoopGroup: eventLoopGroup
            ),
            services: [GRPCEchoService()]
        )
        // The server runs as long as the PeerServer lives; close() ends it and awaits this task.
        let serving = Task { try await server.serve() }
        let boundPort: Int
        do {
            let address = try await server.transport.listeningAddress
            boundPort = address.ipv4?.port ?? address.ipv6?.port ?? port
        } catch {
            serving.cancel()
            _ = await serving.result
            throw error
        }
        return PeerServer(host: host, port: boundPort) {
            server.beginGracefulShutdown()
            try await serving.value
        }
    }

    /// Runs the echo service on `host:port` until the calling task is cancelled
    /// (`meridian-bench serve-grpc`).
    package static func serve(
        host: String,
        port: Int,
        coalesceFlushes: Bool = true,
        eventLoopGroup: MultiThreadedEventLoopGroup = .singleton
    ) async throws {
        let server = try await runServer(
            host: host,
            port: port,
            coalesceFlushes: coalesceFlushes,
            eventLoopGroup: eventLoopGroup
        )
        await PeerServer.sleepUntilCancelled()
        try await server.close()
    }

    /// A client with one HTTP/2 connection to the echo service at `host:port`.
    package static func connect(
        host: String,
        port: Int,
        coalesceFlushes: Bool = true,
        eventLoopGroup: MultiThreadedEventLoopGroup = .singleton
    ) async throws -> GRPCEchoClient {
        try await GRPCEchoClient.connect(
            host: host,
            port: port,
            coalesceFlushes: coalesceFlushes,
            eventLoopGroup: eventLoopGroup
        )
    }
}
