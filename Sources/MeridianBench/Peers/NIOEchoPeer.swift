import NIOCore
import NIOExtras
import NIOPosix

/// The ceiling for a remote call on this machine: a plain SwiftNIO TCP echo of
/// 4-byte big-endian length-prefixed frames, with a pipelined client (``NIOEchoClient``).
///
/// The server is a synchronous handler pipeline (decoder → echo → coalescing encoder) rather
/// than an `NIOAsyncChannel`: an echo has no work to do in Swift Concurrency, and every hop out
/// of the event loop would be measured as transport cost.
package enum NIOEchoPeer {
    /// The pipeline both ends use: length-field framing in, coalesced length-prefixed frames out.
    static func addFraming(to pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.addHandler(
            ByteToMessageHandler(LengthFieldBasedFrameDecoder(lengthFieldBitLength: .fourBytes, lengthFieldEndianness: .big))
        )
        try pipeline.addHandler(CoalescingLengthPrefixEncoder())
    }

    /// Starts an echo server on `host:port` (port 0: the OS picks one, see ``PeerServer/port``).
    ///
    /// ``PeerServer/close()`` stops accepting, closes every open connection and waits for them.
    package static func runServer(
        host: String,
        port: Int,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> PeerServer {
        let quiesce = ServerQuiescingHelper(group: group)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try addFraming(to: pipeline)
                    try pipeline.addHandler(EchoServerHandler())
                }
            }
            .bind(host: host, port: port)
            .get()

        let boundPort = channel.localAddress?.port ?? port
        return PeerServer(host: host, port: boundPort) {
            let stopped = group.next().makePromise(of: Void.self)
            quiesce.initiateShutdown(promise: stopped)
            try await stopped.futureResult.get()
        }
    }

    /// Runs an echo server on `host:port` until the calling task is cancelled
    /// (`meridian-bench serve-echo`).
    package static func serve(
        host: String,
        port: Int,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws {
        let server = try await runServer(host: host, port: port, group: group)
        await PeerServer.sleepUntilCancelled()
        try await server.close()
    }

    /// Opens one connection to an echo server; it carries every call of the client.
    package static func connect(
        host: String,
        port: Int,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> NIOEchoClient {
        try await NIOEchoClient.connect(host: host, port: port, group: group)
    }
}
