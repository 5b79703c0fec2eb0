import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// `count` distinct TCP ports that were free a moment ago on `host`: each stays bound until all
/// are chosen, and none is handed out twice in this process. Racy by nature (another socket may
/// take a port before it is used): for tests, benchmarks and a node asked to pick its own port.
///
/// The ports come from below the kernel's ephemeral range (`ip_local_port_range` on Linux), so
/// no outgoing connection — of this process, a node it starts or anyone else — can be given one
/// as its local port between the choice and the bind (a node that connects to its seeds before
/// binding its gateway would otherwise now and then find its own gateway port taken).
package func freeTCPPorts(_ count: Int, host: String = "127.0.0.1") async throws -> [Int] {
    var channels: [any Channel] = []
    func closeAll() async {
        for channel in channels { try? await channel.close() }
    }
    do {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let range = PortChoice.range {
            var attempts = 0
            while channels.count < count {
                attempts += 1
                guard attempts <= 64 * count else { throw PortChoice.Exhausted(range: range) }
                guard let port = PortChoice.claim(in: range) else { continue }
                if let channel = try? await bootstrap.bind(host: host, port: port).get() { channels.append(channel) }
            }
        } else {
            for _ in 0..<count { channels.append(try await bootstrap.bind(host: host, port: 0).get()) }
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

/// Where ``freeTCPPorts(_:host:)`` looks: the ports below the ephemeral range, and those it
/// already handed out.
private enum PortChoice {
    /// 10,000 up to the first ephemeral port; nil where the ephemeral range is unknown (then
    /// the kernel picks, from the ephemeral range).
    static let range: Range<Int>? = {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
              let low = text.split(whereSeparator: \.isWhitespace).first.flatMap({ Int($0) }), low > 10_000 + 1_000
        else { return nil }
        return 10_000..<low
    }()

    static let handedOut = Mutex<Set<Int>>([])

    /// A random port of `range` not handed out before in this process (nil when it was).
    static func claim(in range: Range<Int>) -> Int? {
        let port = Int.random(in: range)
        return handedOut.withLock { $0.insert(port).inserted } ? port : nil
    }

    struct Exhausted: Error, CustomStringConvertible {
        var range: Range<Int>
        var description: String { "no free TCP port found in \(range.lowerBound)..<\(range.upperBound) after many tries" }
    }
}
