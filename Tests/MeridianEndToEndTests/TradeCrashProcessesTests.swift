import Foundation
import Testing

/// A cross-region trade whose giver's node is killed (SIGKILL, at the worst moment: after the
/// giver's leg committed, before the receiver's leg was sent) completes after the restart,
/// and the ledger audit is clean before and after.
@Suite("trades across regions survive kill -9", .serialized)
struct TradeCrashProcessesTests {
    let directory: URL
    let topologyPath: String
    let alice = "a11ce000-0000-4000-8000-000000000001"
    let bob = "b0b00000-0000-4000-8000-000000000002"

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-e2e-trade-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ports = try Meridian.freePorts(4)
        let yaml = """
            cluster: e2e-trade
            version: 1
            regions:
              region-a: { shards: 4, storage: "sqlite:\(directory.path)/a" }
              region-b: { shards: 4, storage: "sqlite:\(directory.path)/b" }
            latency_ms:
              region-a/region-b: 20
            catalog_primary: region-a
            identity_authority: region-a
            seeds: [a-1, b-1]
            nodes:
              - { id: a-1, region: region-a, cluster: "127.0.0.1:\(ports[0])", gateway: "127.0.0.1:\(ports[1])" }
              - { id: b-1, region: region-b, cluster: "127.0.0.1:\(ports[2])", gateway: "127.0.0.1:\(ports[3])" }
            """
        topologyPath = directory.appendingPathComponent("topology.yaml").path
        try yaml.write(toFile: topologyPath, atomically: true, encoding: .utf8)
    }

    func start(_ node: String, run: Int, fault: String? = nil) throws -> Process {
        try Meridian.start(
            ["bootstrap", "--topology", topologyPath, "--node", node],
            log: directory.appendingPathComponent("\(node)-\(run).log"),
            environment: fault.map { ["MERIDIAN_FAULT": $0] } ?? [:]
        )
    }

    func player(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try Meridian.run(["player"] + arguments + ["--topology", topologyPath])
    }

    func gold(of player: String, region: String) throws -> Int64? {
        let (status, output) = try self.player(["show", "--player", player, "--region", region, "--json"])
        guard status == 0, let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] else { return nil }
        return ((object["balances"] as? [String: Any])?["gold"] as? NSNumber)?.int64Value ?? 0
    }

    func audit() throws -> (status: Int32, output: String) {
        try Meridian.run(["ledger", "audit", "--topology", topologyPath])
    }

    func eventually(timeout: Duration = .seconds(60), _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? condition()) == true { return true }
            try await Task.sleep(for: .milliseconds(250))
        }
        return false
    }

    @Test func aTradeInterruptedByKill9CompletesAfterRestart() async throws {
        var a = try start("a-1", run: 0, fault: "kill-after-trade-out")
        let b = try start("b-1", run: 0)
        defer {
            for process in [a, b] where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        #expect(try await eventually {
            try player(["create", "--player", alice, "--region", "region-a", "--name", "alice"]).status == 0
                && player(["create", "--player", bob, "--region", "region-b", "--name", "bob"]).status == 0
        })
        #expect(try player(["grant", "--player", alice, "--region", "region-a", "--item", "gold", "--count", "10", "--key", "welcome"]).status == 0)
        #expect(try gold(of: alice, region: "region-a") == 10)

        // The giver's node dies right after committing the giver's leg.
        let trade = try player([
            "trade", "--player", alice, "--region", "region-a", "--to", bob, "--to-region", "region-b",
            "--item", "gold", "--count", "4", "--trade-id", "7ade0000-0000-4000-8000-000000000003",
        ])
        #expect(trade.status != 0, "the caller sees the node die: \(trade.output)")
        a.waitUntilExit()
        #expect(a.terminationReason == .uncaughtSignal && a.terminationStatus == SIGKILL)

        // While it is down, nothing is lost: the 4 gold are in transit.
        let during = try audit()
        #expect(during.status == 0, "audit while the node is down: \(during.output)")
        #expect(during.output.contains("in transit 4"))
        #expect(try gold(of: bob, region: "region-b") == 0)

        // After the restart the relay finishes the trade from the outbox.
        a = try start("a-1", run: 1)
        #expect(try await eventually { try gold(of: bob, region: "region-b") == 4 })
        #expect(try gold(of: alice, region: "region-a") == 6)

        a.terminate()
        b.terminate()
        a.waitUntilExit()
        b.waitUntilExit()
        let after = try audit()
        #expect(after.status == 0, "audit after: \(after.output)")
        #expect(after.output.contains("created 10 = held 10 + consumed 0 + in transit 0"))
        try? FileManager.default.removeItem(at: directory)
    }
}
