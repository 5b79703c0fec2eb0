import MeridianCommandLine
import ArgumentParser
import Foundation
import Logging
import MeridianCatalog
import MeridianTopology

extension BenchCommand {
    /// `meridian-bench catalog`: local read cost during publishes, and publish-to-visible-everywhere time.
    struct Catalog: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "catalog",
            abstract: "Catalog reads (ns/op, 1…N readers) while versions are swapped, and time until a publish is served in every region.",
            discussion: """
                Goals on a 2-core box (not test assertions): a read ≤ 1 µs; a publish visible everywhere within the \
                topology's largest simulated round trip + 100 ms. Run a release build: \
                swift build -c release --scratch-path .build-release --product meridian-bench && .build-release/release/meridian-bench catalog
                """
        )

        @Flag(help: "Print one JSON object: reads (one entry per case and reader count) and visibility.")
        var json = false

        @Option(help: "Topology whose regions, nodes and latency the visibility run uses.")
        var topology: String = "Topology/local.yaml"

        @Option(help: "Catalog file read and published.")
        var catalog: String = "Topology/catalogs/example.yaml"

        @Option(help: "Measured seconds per read case.")
        var seconds: Double = 2

        @Option(parsing: .upToNextOption, help: "Reader thread counts.")
        var readers: [Int] = [1, 2, 4]

        @Option(help: "Milliseconds between version swaps during the read cases.")
        var publishIntervalMs: Double = 1

        @Option(help: "Publishes timed in the visibility run.")
        var publishes: Int = 20

        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            var logger = logging.bootstrap()
            logger.logLevel = .warning
            let content = try CatalogContent.loadOrExplain(catalog)
            let (parsed, _) = try Topology.loadOrExplain(topology)
            let json = self.json
            let progress: (String) -> Void = { step in
                if !json { FileHandle.standardError.write(Data("running \(step)…\n".utf8)) }
            }
            var reads = CatalogReadBenchmark(content: content)
            reads.duration = .milliseconds(Int(seconds * 1000))
            reads.readerCounts = readers
            reads.publishInterval = .microseconds(Int(publishIntervalMs * 1000))
            let readResults = await reads.run(progress: progress)
            var visibility = CatalogVisibilityBenchmark(topology: parsed, content: content, logger: logger)
            visibility.publishes = publishes
            let visibilityResult = try await visibility.run(progress: progress)
            let report = CatalogBenchReport(swapIntervalMs: publishIntervalMs, reads: readResults, visibility: visibilityResult)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(report.rendered, terminator: "")
            }
        }
    }
}

/// Both parts of `meridian-bench catalog`, as JSON or a table.
struct CatalogBenchReport: Codable {
    /// Milliseconds between version swaps during the read cases.
    var swapIntervalMs: Double
    var reads: [CatalogReadBenchmark.Result]
    var visibility: CatalogVisibilityBenchmark.Result

    enum CodingKeys: String, CodingKey {
        case reads, visibility
        case swapIntervalMs = "swap_interval_ms"
    }

    var rendered: String {
        var output = "catalog reads while another thread swaps in a new version every \(fixed(swapIntervalMs, swapIntervalMs < 1 ? 2 : 0)) ms\n"
        var rows = [["case", "readers", "ns/op", "p50 ns", "p99 ns", "p99.9 ns", "max ns", "reads/s", "swaps"]]
        for result in reads {
            rows.append([
                result.case, "\(result.readers)", fixed(result.nsPerOp, 1), fixed(result.p50Ns, 1), fixed(result.p99Ns, 1),
                fixed(result.p999Ns, 1), fixed(result.maxBatchNs, 0), rate(result.readsPerSecond), "\(result.publishes)",
            ])
        }
        output += table(rows)
        output += "(percentiles of the per-read time within batches of reads; goal: ≤ 1000 ns)\n\n"
        output += "publish → served by every node of the region, \(visibility.publishes) publishes, \(visibility.nodes) nodes, simulated latency\n"
        var visibilityRows = [["region", "one-way ms", "p50 ms", "p99 ms", "max ms"]]
        for region in visibility.regions + [visibility.everywhere] {
            visibilityRows.append([region.region, fixed(region.oneWayFromPrimaryMs, 0), fixed(region.p50Ms, 1), fixed(region.p99Ms, 1), fixed(region.maxMs, 1)])
        }
        output += table(visibilityRows)
        let verdict = visibility.everywhere.maxMs <= visibility.goalMs ? "met" : "missed"
        output += "goal: everywhere within the largest RTT \(fixed(visibility.largestRoundTripMs, 0)) ms + 100 ms = \(fixed(visibility.goalMs, 0)) ms — \(verdict) (max \(fixed(visibility.everywhere.maxMs, 1)) ms); publish call p50 \(fixed(visibility.publishCallP50Ms, 1)) ms\n"
        return output
    }

    private func table(_ rows: [[String]]) -> String {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    private func fixed(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    private func rate(_ value: Double) -> String {
        value >= 1e6 ? String(format: "%.1fM", value / 1e6) : String(format: "%.0fk", value / 1e3)
    }
}
