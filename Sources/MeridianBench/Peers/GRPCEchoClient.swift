#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import NIOCore
import NIOPosix
import SwiftProtobuf

/// A grpc-swift-2 client of `meridian.bench.Echo/Echo`: one HTTP/2 connection (the default
/// pick-first policy over one address), any number of concurrent unary calls on it.
package final class GRPCEchoClient: Sendable {
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    /// Runs the client's connections for as long as this object is open.
    private let connections: Task<Void, any Error>

    private init(client: GRPCClient<HTTP2ClientTransport.Posix>, connections: Task<Void, any Error>) {
        self.client = client
        self.connections = connections
    }

    /// Connects to the echo service at `host:port` and makes one call, so that a missing server
    /// shows up here (within `timeout`) rather than as the first measured call.
    ///
    /// `coalesceFlushes`: see ``GRPCPeer``.
    package static func connect(
        host: String,
        port: Int,
        coalesceFlushes: Bool = true,
        eventLoopGroup: MultiThreadedEventLoopGroup = .singleton,
        timeout: Duration = .seconds(10)
    ) async throws -> GRPCEchoClient {
        var config = HTTP2ClientTransport.Posix.Config.defaults
        if !coalesceFlushes {
            config.connection.flushCoalescing = nil
        }
        let target: any ResolvableTarget =
            host.contains(":") ? .ipv6(address: host, port: port) : .ipv4(address: host, port: port)
        let client = GRPCClient(
            transport: try HTTP2ClientTransport.Posix(
                target: target,
                transportSecurity: .plaintext,
                config: config,
                eventLoopGroup: eventLoopGroup
            )
        )
        let connections = Task { try await client.runConnections() }
        let echoClient = GRPCEchoClient(client: client, connections: connections)
        do {
            var options = CallOptions.defaults
            options.timeout = timeout
            _ = try await echoClient.call(Google_Protobuf_BytesValue(), options: options)
        } catch {
            try? await echoClient.close()
            throw error
        }
        return echoClient
    }

    /// One unary call: sends `request`, returns the echoed message.
    package func call(
        _ request: Google_Protobuf_BytesValue,
        options: CallOptions = .defaults
    ) async throws -> Google_Protobuf_BytesValue {
        try await self.client.unary(
            request: ClientRequest(message: request),
            descriptor: GRPCEchoService.echo,
            serializer: ProtobufSerializer<Google_Protobuf_BytesValue>(),
            deserializer: ProtobufDeserializer<Google_Protobuf_BytesValue>(),
            options: options
        ) { response in
            try response.message
        }
    }

    /// One unary call with `payload` as the bytes; returns the echoed bytes.
    package func call(_ payload: Data) async throws -> Data {
        try await self.call(Google_Protobuf_BytesValue(payload)).value
    }

    /// Lets calls in flight finish, closes the connection and waits until it is closed.
    package func close() async throws {
        self.client.beginGracefulShutdown()
        try await self.connections.value
    }
}
