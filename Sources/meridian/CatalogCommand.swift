import MeridianCommandLine
import ArgumentParser
import Foundation
import MeridianNode
import Logging
import MeridianCatalog
import MeridianCluster
import MeridianTopology

/// `meridian catalog …`: validate, publish and inspect global catalogs.
struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Validate, publish and inspect global catalogs (items, store offers, game config, feature flags).",
        subcommands: [Validate.self, Publish.self, Show.self]
    )

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a catalog file; prints every problem as file:line:column and exits 1 if there is any."
        )

        @Argument(help: "Catalog file, e.g. Topology/catalogs/example.yaml.")
        var file: String

        func run() async throws {
            let content = try CatalogContent.loadOrExplain(file)
            print("\(file): valid — \(content.summaryLine)")
        }
    }

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a catalog file and publish it as the next version in the topology's catalog_primary region.",
            discussion: """
                A bad file is reported with file:line errors (exit 1) and nothing is sent. Otherwise the catalog \
                goes to a node of the primary region; the leader there (its up member with the smallest id) \
                assigns the next version, persists it and pushes it to every node. Nodes that are down catch up \
                when they return. Exit 2 when no primary-region node answers or the leader refuses.
                """
        )

        @Option(help: "Topology file of the cluster.")
        var topology: String

        @Argument(help: "Catalog file.")
        var file: String

        @Option(help: "Seconds to wait for the publish (including the pushes) before trying the next primary-region node.")
        var timeout: Double = 30

        @Flag(help: "Print a JSON object: version, content_hash, leader, acknowledged, missed.")
        var json = false

        @OptionGroup var token: AdminTokenOptions
        @OptionGroup var secret: SecretOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            let content = try CatalogContent.loadOrExplain(file)
            let (parsed, _) = try Topology.loadOrExplain(topology)
            let request = CatalogAdmin.request(content, source: file)
            let receipt: CatalogPublishReceipt
            do {
                receipt = try await AdminGateClient.with(
                    topology: topology, secret: secret, token: token, logging: logging, preferring: parsed.catalogPrimary
                ) { client in
                    CatalogPublishReceipt(reply: try await ClusterSystem.withCallTimeout(.milliseconds(Int(timeout * 1000) + 5000)) {
                        try await client.gate.publishCatalog(token: client.token, request: request, timeoutMilliseconds: Int64(timeout * 1000))
                    })
                }
            } catch let error as ValidationError {
                throw error
            } catch {
                FileHandle.standardError.write(Data("catalog not published: \(error)\n".utf8))
                throw ExitCode(2)
            }
            if json {
                print(CatalogFormat.json([
                    "version": receipt.version, "content_hash": receipt.contentHash.hex, "leader": receipt.leader,
                    "acknowledged": receipt.acknowledged, "missed": receipt.missed,
                ]))
            } else {
                let total = receipt.acknowledged.count + receipt.missed.count
                print("published catalog v\(receipt.version) (sha256 \(receipt.contentHash.short)) from \(file)")
                print("leader \(receipt.leader); acknowledged by \(receipt.acknowledged.count) of \(total) nodes")
                if !receipt.missed.isEmpty {
                    print("not yet acknowledged (they catch up by anti-entropy): \(receipt.missed.joined(separator: ", "))")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the catalog version every node of the topology serves."
        )

        @Option(help: "Topology file of the cluster.")
        var topology: String

        @Flag(help: "Print a JSON array: node, region, version, content_hash, published_at_ms, error.")
        var json = false

        @Option(help: "Seconds to wait for each node.")
        var timeout: Double = 2

        @OptionGroup var secret: SecretOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            var logger = logging.bootstrap()
            logger.logLevel = .warning
            let (parsed, _) = try Topology.loadOrExplain(topology)
            let client = try await StatusClient.start(topology: parsed, secret: try secret.load(), logger: logger)
            let reports = await CatalogAdmin(system: client.system).reports(
                nodes: parsed.nodes.map { ($0.id, $0.region) }, timeout: .milliseconds(Int(timeout * 1000))
            )
            await client.system.shutdown()
            print(json ? CatalogFormat.json(reports) : CatalogFormat.table(reports))
        }
    }
}

extension CatalogContent {
    var summaryLine: String {
        "\(items.count) items, \(offers.count) offers, \(config.values.count) config keys, \(flags.count) flags"
    }
}

enum CatalogFormat {
    static func table(_ reports: [CatalogReplicaReport]) -> String {
        var rows = [["NODE", "REGION", "VERSION", "HASH", "PUBLISHED"]]
        for report in reports {
            if let problem = report.problem {
                rows.append([report.node, report.region, "-", "-", "unreachable: \(problem.prefix(80))"])
            } else {
                rows.append([
                    report.node, report.region, report.version.map { "\($0)" } ?? "-", report.contentHash?.short ?? "-",
                    report.publishedAt.map { ISO8601DateFormatter().string(from: $0) } ?? "-",
                ])
            }
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            // The last column is not padded: no trailing blanks.
            zip(row, widths).enumerated().map { column, cell in
                column == row.count - 1 ? cell.0 : cell.0.padding(toLength: cell.1, withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func json(_ reports: [CatalogReplicaReport]) -> String {
        let objects: [[String: Any]] = reports.map { report in
            [
                "node": report.node,
                "region": report.region,
                "version": report.version.map { $0 as Any } ?? NSNull(),
                "content_hash": report.contentHash?.hex ?? NSNull(),
                "published_at_ms": report.publishedAt.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) as Any } ?? NSNull(),
                "error": report.problem ?? NSNull(),
            ]
        }
        return json(objects)
    }

    static func json(_ object: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
