import NIOCore
import NIOPosix

/// A TCP port that was free a moment ago on `host` (bound, then released). Racy by nature:
/// use it for tests, benchmarks and a node asked to pick its own port.
package func freeTCPPort(host: String = "127.0.0.1") async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: host, port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}
