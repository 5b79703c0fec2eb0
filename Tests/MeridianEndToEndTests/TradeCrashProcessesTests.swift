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

        func storage(region: String, directory: URL) -> String {
            switch self {
            case .sqlite: return "sqlite:\(directory.path)/\(region)"
            case .postgres:
                let variable = region == "a" ? "MERIDIAN_TEST_POSTGRES_EU_WEST_URL" : "MERIDIAN_TEST_POSTGRES_US_EAST_URL"
                return ProcessInfo.processInfo.environment[variable] ?? ""
            }
        }
    }

    struct Setup {
        let directory: URL
        let topologyPath: String
    }

    // Fresh players per run: the PostgreSQL databases outlive one test.
    let alice = UUID().uuidString.lowercased()
    let bob = UUID().uuidString.lowercased()

    static func setUp(_ backend: Backend) throws -> Setup {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-e2e-trade-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ports = try Meridian.freePorts(4)
        let yaml = """
            cluster: e2e-trade
            version: 1
            regions:
              region-a: { shards: 4, storage: "\(backend.storage(region: "a", directory: directory))" }
              region-b: { shards: 4, storage: "\(backend.storage(region: "b", directory: directory))" }
            latency_ms:
              region-a/region-b: 20
            catalog_primary: region-a
            identity_authority: region-a
            seeds: [a-1, b-1]
            nodes:
              - { id: a-1, region: region-a, cluster: "127.0.0.1:\(ports[0])", gateway: "127.0.0.1:\(ports[1])" }
              - { id: b-1, region: region-b, cluster: "127.0.0.1:\(ports[2])", gateway: "127.0.0.1:\(ports[3])" }
            """
        let topologyPath = directory.appendingPathComponent("topology.yaml").path
        try yaml.write(toFile: topologyPath, atomically: true, encoding: .utf8)
        return Setup(directory: directory, topologyPath: topologyPath)
    }

    func start(_ node: String, run: Int, fault: String? = nil, in setup: Setup) throws -> Process {
        try Meridian.start(
            ["bootstrap", "--topology", setup.topologyPath, "--node", node],
            log: setup.directory.appendingPathComponent("\(node)-\(run).log"),
            environment: fault.map { ["MERIDIAN_FAULT": $0] } ?? [:]
        )
    }

    func player(_ arguments: [String], in setup: Setup) throws -> (status: Int32, output: String) {
        try Meridian.run(["player"] + arguments + ["--topology", setup.topologyPath])
    }

    func gold(of player: String, region: String, in setup: Setup) throws -> Int64? {
        let (status, output) = try self.player(["show", "--player", player, "--region", region, "--json"], in: setup)
        guard status == 0, let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] else { return nil }
        return ((object["balances"] as? [String: Any])?["gold"] as? NSNumber)?.int64Value ?? 0
    }

    func audit(_ setup: Setup) throws -> (status: Int32, output: String) {
        try Meridian.run(["ledger", "audit", "--topology", setup.topologyPath])
    }

    func eventually(timeout: Duration = .seconds(60), _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? condition()) == true { return true }
            try await Task.sleep(for: .milliseconds(250))
        }
        return false
    }

    @Test(arguments: Backend.available)
    func aTradeInterruptedByKill9CompletesAfterRestart(_ backend: Backend) async throws {
        let setup = try Self.setUp(backend)
        var a = try start("a-1", run: 0, fault: "kill-after-trade-out", in: setup)
        let b = try start("b-1", run: 0, in: setup)
        defer {
            for process in [a, b] where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        #expect(try await eventually {
            try player(["create", "--player", alice, "--region", "region-a", "--name", "alice"], in: setup).status == 0
                && player(["create", "--player", bob, "--region", "region-b", "--name", "bob"], in: setup).status == 0
        })
        #expect(try player(["grant", "--player", alice, "--region", "region-a", "--item", "gold", "--count", "10", "--key", "welcome"], in: setup).status == 0)
        #expect(try gold(of: alice, region: "region-a", in: setup) == 10)

        // The giver's node dies right after committing the giver's leg.
        let trade = try player([
            "trade", "--player", alice, "--region", "region-a", "--to", bob, "--to-region", "region-b",
            "--item", "gold", "--count", "4", "--trade-id", "7ade0000-0000-4000-8000-000000000003",
        ], in: setup)
        #expect(trade.status != 0, "the caller sees the node die: \(trade.output)")
        a.waitUntilExit()
        #expect(a.terminationReason == .uncaughtSignal && a.terminationStatus == SIGKILL)

        // While it is down, nothing is lost: the 4 gold are in transit.
        let during = try audit(setup)
        #expect(during.status == 0, "audit while the node is down: \(during.output)")
        #expect(during.output.contains("in transit 4"))
        #expect(try gold(of: bob, region: "region-b", in: setup) == 0)

        // After the restart the relay finishes the trade from the outbox.
        a = try start("a-1", run: 1, in: setup)
        #expect(try await eventually { try gold(of: bob, region: "region-b", in: setup) == 4 })
        #expect(try gold(of: alice, region: "region-a", in: setup) == 6)

        a.terminate()
        b.terminate()
        a.waitUntilExit()
        b.waitUntilExit()
        let after = try audit(setup)
        #expect(after.status == 0, "audit after: \(after.output)")
        #expect(after.output.contains("created 10 = held 10 + consumed 0 + in transit 0"))
        try? FileManager.default.removeItem(at: setup.directory)
    }
}
