import NIOCore
import NIOPosix

/// One TCP connection to an echo server carrying any number of concurrent, pipelined calls.
///
/// Calls from many tasks are queued and written in batches, one flush per batch; the server
/// answers in order, so responses are matched first-in, first-out.
package final class NIOEchoClient: Sendable {
    private let channel: any Channel
    private let queue: PipelinedRequestQueue
    private let handler: NIOLoopBound<EchoClientHandler>

    private init(channel: any Channel, queue: PipelinedRequestQueue, handler: NIOLoopBound<EchoClientHandler>) {
        self.channel = channel
        self.queue = queue
        self.handler = handler
    }

    /// Connects to the echo server at `host:port`.
    package static func connect(
        host: String,
        port: Int,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> NIOEchoClient {
        let queue = PipelinedRequestQueue()
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try NIOEchoPeer.addFraming(to: pipeline)
                    try pipeline.addHandler(EchoClientHandler(queue: queue))
                }
            }
            .connect(host: host, port: port)
            .get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(
                try channel.pipeline.syncOperations.handler(type: EchoClientHandler.self),
                eventLoop: channel.eventLoop
            )
        }.get()
        return NIOEchoClient(channel: channel, queue: queue, handler: handler)
    }

    /// Sends `payload` as one frame and returns the frame the server echoed.
    ///
    /// Throws if the connection closes before the response arrives.
    package func call(_ payload: ByteBuffer) async throws -> ByteBuffer {
        // Unsafe rather than checked: the handler resumes each continuation exactly once
        // (a request is in exactly one of: the queue, a batch, the awaiting FIFO).
        try await withUnsafeThrowingContinuation { continuation in
            switch self.queue.submit(.init(payload: payload, continuation: continuation)) {
            case .queued:
                break
            case .scheduleDrain:
                let handler = self.handler
                self.channel.eventLoop.execute {
                    handler.value.drain()
                }
            case .fail(let error):
                continuation.resume(throwing: error)
            }
        }
    }

    /// Closes the connection; calls still waiting fail.
    package func close() async throws {
        do {
            try await self.channel.close()
        } catch ChannelError.alreadyClosed {
            // Closed by the server or an earlier close(): nothing left to do.
        }
    }
}
