import MeridianLatency
import MeridianCommandLine
import ArgumentParser
import Foundation
import Logging
import MeridianBench
import MeridianCluster
import MeridianStorage
import MeridianTransport

/// `meridian-bench …`: benchmark programs. Build with `-c release` before quoting figures.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meridian-bench",
        abstract: "Meridian's benchmarks (run release builds: swift run -c release meridian-bench …).",
        subcommands: [RPC.self, Ledger.self, Catalog.self, Identity.self, Tick.self, Matchmaker.self, ServeRPC.self, ServeEcho.self, ServeGRPC.self]
    )

    struct RPC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rpc",
            abstract: "Remote distributed-actor calls vs a raw NIO echo and grpc-swift-2 (1, 16, 256 in flight; 64-byte payload)."
        )

        @Flag(help: "Print the results as one JSON array (one object per case and concurrency).")
        var json = false

        @Option(help: "Measured seconds per case.")
        var seconds: Double = 5

        @Option(parsing: .upToNextOption, help: "Cases to run: meridian nio-echo grpc meridian-under-bulk.")
        var cases: [String] = ["meridian", "nio-echo", "grpc", "meridian-under-bulk"]

        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            var logger = logging.bootstrap()
            logger.logLevel = .warning
            var benchmark = RPCBenchmark(executable: currentExecutablePath(), logger: logger)
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

extension BenchCommand {
    /// `meridian-bench ledger`: group-committed ledger appends on SQLite and PostgreSQL.
    struct Ledger: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ledger",
            abstract: "Ledger appends/s and latency with 1,000 players and 64 concurrent writers, on SQLite and PostgreSQL.",
            discussion: "PostgreSQL is used when MERIDIAN_TEST_POSTGRES_URL is set: run `scripts/with-postgres .build-release/release/meridian-bench ledger`."
        )

        @Flag(help: "Print one JSON object per backend.") var json = false
        @Option(help: "Measured seconds per backend.") var seconds: Double = 10
        @Option(help: "Players.") var players: Int = 1_000
        @Option(help: "Concurrent writers.") var writers: Int = 64
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            var logger = logging.bootstrap()
            logger.logLevel = .warning
            var results: [BenchResult] = []
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-bench-ledger-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            var backends = [("ledger-sqlite", "sqlite:\(directory)")]
            if let url = ProcessInfo.processInfo.environment["MERIDIAN_TEST_POSTGRES_URL"] {
                backends.append(("ledger-postgres", url))
            } else if !json {
                FileHandle.standardError.write(Data("PostgreSQL skipped: MERIDIAN_TEST_POSTGRES_URL is not set (use scripts/with-postgres)\n".utf8))
            }
            for (name, storage) in backends {
                if !json { FileHandle.standardError.write(Data("running \(name)…\n".utf8)) }
                let store = try await makeRegionStore(storage: storage, node: "bench", logger: logger)
                let result = try await runLedgerBenchmark(
                    store: store, players: players, writers: writers, duration: .milliseconds(Int(seconds * 1000)), logger: logger
                )
                await store.close()
                var recorder = LatencyRecorder()
                for latency in result.latencies { recorder.record(latency) }
                results.append(BenchResult(case: name, inflight: writers, latencies: recorder, window: result.elapsed))
                if !json {
                    FileHandle.standardError.write(Data("\(name): \(result.appends) appends, \(result.failures) refused, average batch \(String(format: "%.1f", result.averageBatchSize))\n".utf8))
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(results), as: UTF8.self))
            } else {
                BenchTable.print(results)
            }
        }
    }
}
