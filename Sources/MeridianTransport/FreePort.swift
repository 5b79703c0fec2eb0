import NIOCore
import NIOPosix

/// `count` distinct TCP ports that were free a moment ago on `host`: each stays bound until all
/// are chosen, so none is handed out twice. Racy by nature (another socket may take a port
/// before it is used): for tests, benchmarks and a node asked to pick its own port.
package func freeTCPPorts(_ count: Int, host: String = "127.0.0.1") async throws -> [Int] {
    var channels: [any Channel] = []
    func closeAll() async {
        for channel in channels { try? await channel.close() }
    }
    do {
        for _ in 0..<count {
            channels.append(try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: host, port: 0).get())
        }
    } catch {
        await closeAll()
        throw error
    }
    let ports = channels.map { $0.localAddress?.port ?? 0 }
    await closeAll()
    return ports
}

/// A TCP port that was free a moment ago on `host` (see ``freeTCPPorts(_:host:)``).
package func freeTCPPort(host: String = "127.0.0.1") async throws -> Int {
    try await freeTCPPorts(1, host: host)[0]
}
