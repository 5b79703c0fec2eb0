import Foundation
import Testing

/// A cross-region trade whose giver's node is killed (SIGKILL, at the worst moment: after the
/// giver's leg committed, before the receiver's leg was sent) completes after the restart,
/// and the ledger audit is clean before and after.
@Suite("trades across regions survive kill -9", .serialized)
struct TradeCrashProcessesTests {
    /// Where the two regions keep their data: embedded SQLite, or the per-region PostgreSQL
    /// databases that scripts/with-postgres creates (skipped without them).
    enum Backend: String, CaseIterable, Sendable {
        case sqlite, postgres

        static var available: [Backend] {
            ProcessInfo.processInfo.environment["MERIDIAN_TEST_POSTGRES_EU_WEST_URL"] == nil ? [.sqlite] : [.sqlite, .postgres]
        }

        /// The region's PostgreSQL URL; nil for SQLite, the cluster's default.
        func storage(region: String) -> String? {
            switch self {
            case .sqlite: return nil
            case .postgres:
                let variable = region == "region-a" ? "MERIDIAN_TEST_POSTGRES_EU_WEST_URL" : "MERIDIAN_TEST_POSTGRES_US_EAST_URL"
                return ProcessInfo.processInfo.environment[variable] ?? ""
            }
        }
    }

    // Fresh players per run: the PostgreSQL databases outlive one test.
    let alice = UUID().uuidString.lowercased()
    let bob = UUID().uuidString.lowercased()

    func player(_ arguments: [String], in cluster: ProcessCluster) throws -> (status: Int32, output: String) {
        try cluster.meridian(["player"] + arguments)
    }

    func gold(of player: String, region: String, in cluster: ProcessCluster) throws -> Int64? {
        let (status, output) = try self.player(["show", "--player", player, "--region", region, "--json"], in: cluster)
        guard status == 0, let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] else { return nil }
        return ((object["balances"] as? [String: Any])?["gold"] as? NSNumber)?.int64Value ?? 0
    }

    @Test(arguments: Backend.available)
    func aTradeInterruptedByKill9CompletesAfterRestart(_ backend: Backend) async throws {
        let cluster = try await ProcessCluster(
            "e2e-trade", directoryPrefix: "meridian-e2e-trade",
            regions: [.init("region-a", shards: 4, nodes: ["a-1"]), .init("region-b", shards: 4, nodes: ["b-1"])],
            latency: ["region-a/region-b": 20], catalogPrimary: "region-a", seeds: ["a-1", "b-1"],
            storage: backend.storage
        )
        var a = try cluster.start("a-1", environment: ["MERIDIAN_FAULT": "kill-after-trade-out"])
        let b = try cluster.start("b-1")
        defer {
            for process in [a, b] where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        let value1 = try await eventually {
            try player(["create", "--player", alice, "--region", "region-a", "--name", "alice"], in: cluster).status == 0
                && player(["create", "--player", bob, "--region", "region-b", "--name", "bob"], in: cluster).status == 0
        }
        #expect(value1)
        #expect(try player(["grant", "--player", alice, "--region", "region-a", "--item", "gold", "--count", "10", "--key", "welcome"], in: cluster).status == 0)
        #expect(try gold(of: alice, region: "region-a", in: cluster) == 10)

        // The giver's node dies right after committing the giver's leg.
        let trade = try player([
            "trade", "--player", alice, "--region", "region-a", "--to", bob, "--to-region", "region-b",
            "--item", "gold", "--count", "4", "--trade-id", "7ade0000-0000-4000-8000-000000000003",
        ], in: cluster)
        #expect(trade.status != 0, "the caller sees the node die: \(trade.output)")
        try await a.exited()
        #expect(a.terminationReason == .uncaughtSignal && a.terminationStatus == SIGKILL)

        // While it is down, nothing is lost: the 4 gold are in transit.
        let during = try cluster.meridian(["ledger", "audit"])
        #expect(during.status == 0, "audit while the node is down: \(during.output)")
        #expect(during.output.contains("in transit 4"))
        #expect(try gold(of: bob, region: "region-b", in: cluster) == 0)

        // After the restart the relay finishes the trade from the outbox.
        a = try cluster.start("a-1", run: 1)
        let value2 = try await eventually { try gold(of: bob, region: "region-b", in: cluster) == 4 }
        #expect(value2)
        #expect(try gold(of: alice, region: "region-a", in: cluster) == 6)

        a.terminate()
        b.terminate()
        try await a.exited()
        try await b.exited()
        let after = try cluster.meridian(["ledger", "audit"])
        #expect(after.status == 0, "audit after: \(after.output)")
        #expect(after.output.contains("created 10 = held 10 + consumed 0 + in transit 0"))
        try? FileManager.default.removeItem(at: cluster.directory)
    }
}
