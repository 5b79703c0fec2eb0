import Foundation
import Logging
import MeridianCluster
import MeridianTransport
import NIOCore

/// `meridian-bench rpc`: Meridian remote calls against the raw NIO echo (the ceiling on this
/// machine) and grpc-swift-2 unary calls, same payload, same concurrency, each server in its
/// own process; then small-call latency while 8 MiB messages stream on the same connection.
package struct RPCBenchmark: Sendable {
    package var executable: String
    package var inflights: [Int] = [1, 16, 256]
    package var payloadSize = 64
    package var bulkSize = 8 * 1024 * 1024
    package var duration: Duration = .seconds(5)
    package var warmUp: Duration = .seconds(1)
    package var cases: Set<String> = ["meridian", "nio-echo", "grpc", "meridian-under-bulk"]
    package var logger: Logger

    package init(executable: String, logger: Logger) {
        self.executable = executable
        self.logger = logger
    }

    /// Ratios printed under the table.
    package static let ratios: [BenchTable.Ratio] = [
        .init("meridian", over: "grpc"),
        .init("meridian", over: "nio-echo"),
    ]

    package func run(progress: @Sendable (String) -> Void) async throws -> [BenchResult] {
        var results: [BenchResult] = []
        let payload = Data(repeating: 0x5A, count: payloadSize)

        if !cases.isDisjoint(with: ["meridian", "meridian-under-bulk"]) {
            // The server reads the secret as text from its environment: use the same text here.
            let secretText = ClusterSecret.random().hexEncoded
            let secret = ClusterSecret(text: secretText)!
            let port = try await freeTCPPort()
            let server = try await BenchProcess.start(
                executable: executable,
                arguments: ["serve-rpc", "--port", "\(port)"],
                port: port,
                environment: ["MERIDIAN_CLUSTER_SECRET": secretText]
            )
            defer { server.stop() }
            let client = try await Self.startClient(serverPort: port, secret: secret, logger: logger)
            let echo = try BenchEchoActor.resolve(id: Self.serverActorID, using: client)
            _ = try await echo.echo(payload)  // connect and intern the target before measuring
            if cases.contains("meridian") {
                for inflight in inflights {
                    progress("meridian, \(inflight) in flight")
                    results.append(try await load(inflight).run(case: "meridian") { _ = try await echo.echo(payload) })
                }
            }
            if cases.contains("meridian-under-bulk") {
                progress("meridian-under-bulk: 1 in flight while \(bulkSize / 1024 / 1024) MiB messages stream")
                results.append(try await underBulk(echo: echo, payload: payload))
            }
            await client.shutdown()
        }

        if cases.contains("nio-echo") {
            let port = try await freeTCPPort()
            let server = try await BenchProcess.start(executable: executable, arguments: ["serve-echo", "--port", "\(port)"], port: port)
            defer { server.stop() }
            let client = try await NIOEchoPeer.connect(host: "127.0.0.1", port: port)
            var buffer = ByteBufferAllocator().buffer(capacity: payloadSize)
            buffer.writeBytes(payload)
            let request = buffer
            for inflight in inflights {
                progress("nio-echo, \(inflight) in flight")
                results.append(try await load(inflight).run(case: "nio-echo") { _ = try await client.call(request) })
            }
            try await client.close()
        }

        if cases.contains("grpc") {
            let port = try await freeTCPPort()
            let server = try await BenchProcess.start(executable: executable, arguments: ["serve-grpc", "--port", "\(port)"], port: port)
            defer { server.stop() }
            let client = try await GRPCPeer.connect(host: "127.0.0.1", port: port)
            for inflight in inflights {
                progress("grpc, \(inflight) in flight")
                results.append(try await load(inflight).run(case: "grpc") { _ = try await client.call(payload) })
            }
            try await client.close()
        }
        return results
    }

    private func load(_ inflight: Int) -> ClosedLoopLoad {
        ClosedLoopLoad(inflight: inflight, duration: duration, warmUp: warmUp)
    }

    /// One caller streams `bulkSize` messages back to back while small calls are measured.
    private func underBulk(echo: BenchEchoActor, payload: Data) async throws -> BenchResult {
        let bulk = Data(repeating: 0xB7, count: bulkSize)
        let streamer = Task {
            var sent = 0
            while !Task.isCancelled {
                _ = try? await ClusterSystem.withCallTimeout(.seconds(60)) { try await echo.absorb(bulk) }
                sent += 1
            }
            return sent
        }
        defer { streamer.cancel() }
        let result = try await load(1).run(case: "meridian-under-bulk") { _ = try await echo.echo(payload) }
        streamer.cancel()
        let streamed = await streamer.value
        logger.info("bulk messages streamed during the measurement", metadata: ["count": "\(streamed)"])
        return result
    }

    static let serverActorID = ClusterActorID(node: "bench-server", incarnation: 0, path: BenchEchoActor.path)

    static func startClient(serverPort: Int, secret: ClusterSecret, logger: Logger) async throws -> ClusterSystem {
        var configuration = ClusterSystem.Configuration(cluster: "meridian-bench", node: "bench-client", region: "bench", secret: secret)
        configuration.joinsCluster = false
        configuration.knownAddresses = ["bench-server": "127.0.0.1:\(serverPort)"]
        return try await ClusterSystem.start(configuration, logger: logger)
    }

    /// The server side, run by `meridian-bench serve-rpc` in its own process until cancelled.
    package static func serve(port: Int, secret: ClusterSecret, logger: Logger) async throws {
        var configuration = ClusterSystem.Configuration(cluster: "meridian-bench", node: "bench-server", region: "bench", secret: secret)
        configuration.joinsCluster = false
        configuration.bindPort = port
        let system = try await ClusterSystem.start(configuration, logger: logger)
        let actor = try system.makeActor(path: BenchEchoActor.path) { BenchEchoActor(actorSystem: system) }
        await PeerServer.sleepUntilCancelled()
        _ = actor
        await system.shutdown()
    }
}
