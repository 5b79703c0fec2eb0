import MeridianCommandLine
import ArgumentParser
import Foundation
import Logging
import MeridianStorage
import MeridianTopology

/// `meridian ledger audit`: recompute every balance of every region from its events.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Inventory ledger tools.",
        subcommands: [Audit.self]
    )

    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every balance from the events of every region and check conservation per item kind. Exit 1 on any mismatch."
        )

        @Option(help: "Topology file; every region's storage is read.")
        var topology: String

        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            var logger = logging.bootstrap()
            logger.logLevel = .warning
            let (parsed, _) = try Topology.loadOrExplain(topology)
            let report = try await Self.audit(parsed, logger: logger)
            print("audited \(report.locations.count) stores: \(report.playerCount) players, \(report.eventCount) events, \(report.tradeCount) trades")
            for item in report.items {
                let verdict = item.balances ? "ok" : "MISMATCH"
                print("  \(item.item): created \(item.created) = held \(item.held) + consumed \(item.consumed) + in transit \(item.inTransit)  \(verdict)")
            }
            for mismatch in report.mismatches { print("MISMATCH \(mismatch)") }
            print(report.isClean ? "ledger audit: clean" : "ledger audit: \(report.mismatches.count) mismatches")
            if !report.isClean { throw ExitCode(1) }
        }

        /// Audits every store of `topology`.
        static func audit(_ topology: Topology, logger: Logger) async throws -> LedgerAuditReport {
            try await withStores(of: topology, logger: logger) { stores in try await LedgerAudit.run(stores: stores.map(\.store)) }
        }

        /// Runs `body` with every store of `topology` open, each named `region/node`: SQLite keeps
        /// one database per node, PostgreSQL one per region (named by its first node).
        static func withStores<T>(of topology: Topology, logger: Logger, _ body: ([(location: String, store: any RegionStore)]) async throws -> T) async throws -> T {
            var stores: [(location: String, store: any RegionStore)] = []
            do {
                for region in topology.regions {
                    let nodes = region.storage.hasPrefix("sqlite:") ? topology.nodes(in: region.name).map(\.id) : [topology.nodes(in: region.name).first?.id ?? region.name]
                    for node in nodes {
                        stores.append(("\(region.name)/\(node)", try await makeRegionStore(storage: region.storage, node: node, logger: logger)))
                    }
                }
                let result = try await body(stores)
                for store in stores { await store.store.close() }
                return result
            } catch {
                for store in stores { await store.store.close() }
                throw error
            }
        }
    }
}
