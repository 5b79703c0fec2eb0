import ArgumentParser
import Foundation
import Logging
import MeridianBench
import MeridianCluster
import MeridianTransport

/// `meridian bench …`: benchmark programs. Build with `-c release` before quoting figures.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (run release builds: swift run -c release meridian bench …).",
        subcommands: [RPC.self, Catalog.self, ServeRPC.self, ServeEcho.self, ServeGRPC.self]
    )

    struct RPC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rpc",
            abstract: "Remote distributed-actor calls vs a raw NIO echo and grpc-swift-2 (1, 16, 256 in flight; 64-byte payload)."
        )

        @Flag(help: "Print one JSON object per case and concurrency.")
        var json = false

        @Option(help: "Measured seconds per case.")
        var seconds: Double = 5

        @Option(parsing: .upToNextOption, help: "Cases to run: meridian nio-echo grpc meridian-under-bulk.")
        var cases: [String] = ["meridian", "nio-echo", "grpc", "meridian-under-bulk"]

        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            var logger = logging.bootstrap()
            logger.logLevel = .warning
            var benchmark = RPCBenchmark(executable: LocalClusterService.executablePath(), logger: logger)
            benchmark.duration = .milliseconds(Int(seconds * 1000))
            benchmark.cases = Set(cases)
            let json = self.json
            let results = try await benchmark.run { step in
                if !json { FileHandle.standardError.write(Data("running \(step)…\n".utf8)) }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(results), as: UTF8.self))
            } else {
                BenchTable.print(results, ratios: RPCBenchmark.ratios)
            }
        }
    }

    struct ServeRPC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "serve-rpc", abstract: "Benchmark peer: a Meridian node with the echo actor.", shouldDisplay: false)
        @Option var port: Int
        @OptionGroup var secret: SecretOptions
        func run() async throws {
            try await RPCBenchmark.serve(port: port, secret: try secret.load(), logger: Logger(label: "meridian.bench"))
        }
    }

    struct ServeEcho: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "serve-echo", abstract: "Benchmark peer: raw SwiftNIO length-prefixed echo.", shouldDisplay: false)
        @Option var port: Int
        func run() async throws {
            try await NIOEchoPeer.serve(host: "127.0.0.1", port: port)
        }
    }

    struct ServeGRPC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "serve-grpc", abstract: "Benchmark peer: grpc-swift-2 unary echo.", shouldDisplay: false)
        @Option var port: Int
        func run() async throws {
            try await GRPCPeer.serve(host: "127.0.0.1", port: port)
        }
    }
}
