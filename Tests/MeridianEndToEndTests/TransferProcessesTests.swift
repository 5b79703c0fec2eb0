import Foundation
import Testing

/// Cross-region transfer over real processes: `meridian player transfer` while the coordinator's
/// node (the identity authority, also the player's source node here) is SIGKILLed right after
/// each saga step it records, while the source's and the destination's store steps have committed
/// but not replied (the source also as a node of its own, the coordinator living on), while the
/// destination node is down, and while it is paused past the failure detector. After the restart the
/// transfer completes: the player's balance is whole in exactly one region, the old copy is a
/// tombstone, the directory says the new home at epoch 2, and `meridian ledger audit` exits 0 at
/// every moment.
@Suite("transfers survive kill -9", .serialized)
struct TransferProcessesTests {
    static let steps = ["begun", "frozen", "copied", "flipped", "activated"]

    func json(_ result: (status: Int32, output: String)) -> [String: Any]? {
        guard result.status == 0, let line = result.output.split(separator: "\n").last else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }

    /// A player with an account homed in `region` (default region-a) and 10 gold there.
    func newPlayer(_ name: String, in cluster: ProcessCluster, password: String, home region: String = "region-a") async throws -> String {
        var created: [String: Any]?
        let value1 = try await eventually {
            created = json(try cluster.meridian(["account", "create", "--username", name, "--password-file", password, "--region", region, "--json"]))
            return created != nil
        }
        #expect(value1, "account \(name) created")
        let player = try #require(created?["player_id"] as? String)
        let value2 = try await eventually {
            try cluster.meridian(["player", "create", "--player", player, "--name", name]).status == 0
        }
        #expect(value2)
        #expect(try cluster.meridian(["player", "grant", "--player", player, "--item", "gold", "--count", "10", "--key", "welcome-\(name)"]).status == 0)
        return player
    }

    /// The player lives in `to` at epoch 2 with its 10 gold, `from` keeps a tombstone, the audit passes.
    func expectMoved(_ player: String, in cluster: ProcessCluster, from: String = "region-a", to: String = "region-b") async throws {
        var account: [String: Any]?
        let value3 = try await eventually {
            account = json(try cluster.meridian(["account", "show", "--player", player, "--json"]))
            return account?["home_region"] as? String == to
        }
        #expect(value3, "the directory names \(to): \(account ?? [:])")
        #expect((account?["epoch"] as? NSNumber)?.intValue == 2)
        var moved: [String: Any]?
        let value4 = try await eventually {
            moved = json(try cluster.meridian(["player", "show", "--player", player, "--json"]))
            return moved?["state"] as? String == "active" && moved?["home_region"] as? String == to
        }
        #expect(value4, "the player is active in \(to): \(moved ?? [:])")
        #expect(((moved?["balances"] as? [String: Any])?["gold"] as? NSNumber)?.int64Value == 10)
        let old = json(try cluster.meridian(["player", "show", "--player", player, "--region", from, "--json"]))
        #expect(old?["state"] as? String == "tombstoned", "\(old ?? [:])")
        let audit = try cluster.meridian(["ledger", "audit"])
        #expect(audit.status == 0, "audit: \(audit.output)")
    }

    /// Usernames unique to this run: the PostgreSQL databases outlive one test.
    let suffix = UUID().uuidString.prefix(6).lowercased()

    @Test(.timeLimit(.minutes(8)), arguments: TradeCrashProcessesTests.Backend.available)
    func aTransferWhoseCoordinatorIsKilledAtEveryStepCompletesAfterRestart(_ backend: TradeCrashProcessesTests.Backend) async throws {
        let cluster = try await ProcessCluster(
            "e2e-transfer", directoryPrefix: "meridian-e2e-transfer",
            regions: [.init("region-a", shards: 2, nodes: ["a-1"]), .init("region-b", shards: 2, nodes: ["b-1"])],
            latency: ["region-a/region-b": 20], catalogPrimary: "region-a", seeds: ["a-1", "b-1"],
            storage: backend.storage
        )
        let password = try cluster.write("password", "a long password\n")
        var run = 0  // the nodes' runs, for their log files
        var a = try cluster.start("a-1")
        var b = try cluster.start("b-1")
        defer { for process in [a, b] where process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        // a-1 (the authority, the coordinator and the player's source node) dies right after the
        // coordinator recorded each step, and right after its agent froze the player and
        // tombstoned the old copy (the step committed, its reply never sent).
        let faults = Self.steps.map { "kill-after-transfer-\($0)" } + ["kill-after-agent-freeze", "kill-after-agent-tombstone"]
        for fault in faults {
            a.terminate()
            try await a.exited()
            run += 1
            a = try cluster.start("a-1", run: run, environment: ["MERIDIAN_FAULT": fault])
            let player = try await newPlayer("p-\(fault.dropFirst("kill-after-".count))-\(suffix)", in: cluster, password: password)

            let cut = try cluster.meridian(["player", "transfer", "--player", player, "--to", "region-b", "--json"])
            #expect(cut.status != 0, "the caller sees a-1 die at \(fault): \(cut.output)")
            try await a.exited()
            #expect(a.terminationReason == .uncaughtSignal && a.terminationStatus == SIGKILL, "killed at \(fault)")
            let during = try cluster.meridian(["ledger", "audit"])
            #expect(during.status == 0, "audit with a-1 down after \(fault): \(during.output)")

            run += 1
            a = try cluster.start("a-1", run: run)
            try await expectMoved(player, in: cluster)
        }

        // b-1 as the destination dies right after its import and after its activation committed;
        // as the source of a move to region-a (the coordinator on a-1 lives on), right after its
        // agent froze the player and after it tombstoned the old copy. The coordinator retries the
        // step until b-1 is back, and the caller still gets `done`.
        let agentKills = [("import", "region-a", "region-b"), ("activate", "region-a", "region-b"), ("freeze", "region-b", "region-a"), ("tombstone", "region-b", "region-a")]
        for (step, from, to) in agentKills {
            b.terminate()
            try await b.exited()
            run += 1
            b = try cluster.start("b-1", run: run, environment: ["MERIDIAN_FAULT": "kill-after-agent-\(step)"])
            let player = try await newPlayer("p-\(step)-\(suffix)", in: cluster, password: password, home: from)
            let mover = try Meridian.start(
                ["player", "transfer", "--player", player, "--to", to, "--json", "--topology", cluster.topologyPath],
                log: cluster.directory.appendingPathComponent("transfer-\(step).log")
            )
            try await b.exited()
            #expect(b.terminationReason == .uncaughtSignal && b.terminationStatus == SIGKILL, "b-1 killed after its \(step)")
            let during = try cluster.meridian(["ledger", "audit"])
            #expect(during.status == 0, "audit with b-1 down after its \(step): \(during.output)")
            run += 1
            b = try cluster.start("b-1", run: run)
            try await mover.exited()
            #expect(mover.terminationStatus == 0, "the transfer waited for b-1 after its \(step) (\(cluster.directory.path))")
            try await expectMoved(player, in: cluster, from: from, to: to)
        }

        // The destination is down when the transfer starts: the coordinator retries until it is back.
        let player = try await newPlayer("p-late-\(suffix)", in: cluster, password: password)
        b.terminate()
        try await b.exited()
        let mover = try Meridian.start(
            ["player", "transfer", "--player", player, "--to", "region-b", "--json", "--topology", cluster.topologyPath],
            log: cluster.directory.appendingPathComponent("transfer-late.log")
        )
        try await Task.sleep(for: .seconds(2))
        run += 1
        b = try cluster.start("b-1", run: run)
        try await mover.exited()
        #expect(mover.terminationStatus == 0, "the transfer waited for the destination (\(cluster.directory.path))")
        try await expectMoved(player, in: cluster)

        for process in [a, b] { process.terminate() }
        for process in [a, b] { try await process.exited() }
        try? FileManager.default.removeItem(at: cluster.directory)
    }

    /// The destination node stops (SIGSTOP, a long GC or VM stall) right after its import
    /// committed, before it replied, and stays stopped until the source's region declared it
    /// down. Resumed, it learns that it was declared down and rejoins by itself — the same
    /// process, a new incarnation, nobody restarting it; the transfer then completes, whole in
    /// one region.
    @Test(.timeLimit(.minutes(4)))
    func aDestinationPausedPastTheFailureDetectorRejoinsByItselfAndTheTransferCompletes() async throws {
        let cluster = try await ProcessCluster(
            "e2e-pause", directoryPrefix: "meridian-e2e-pause",
            regions: [.init("region-a", shards: 2, nodes: ["a-1"]), .init("region-b", shards: 2, nodes: ["b-1"])],
            latency: ["region-a/region-b": 20], catalogPrimary: "region-a", seeds: ["a-1", "b-1"]
        )
        let password = try cluster.write("password", "a long password\n")
        let a = try cluster.start("a-1")
        let b = try cluster.start("b-1", environment: ["MERIDIAN_FAULT": "kill-after-agent-import", "MERIDIAN_FAULT_ACTION": "stop"])
        defer {
            for process in [a, b] where process.isRunning {
                kill(process.processIdentifier, SIGCONT)
                kill(process.processIdentifier, SIGKILL)
            }
        }
        let (before, _) = try await cluster.waitForStatus(timeout: .seconds(60)) { rows in
            rows.contains { $0.node == "b-1" && $0.state == "up" }
        }
        let firstRow = before.first { $0.node == "b-1" }
        let firstIncarnation = try #require(firstRow?.incarnation)
        let player = try await newPlayer("p-paused-\(suffix)", in: cluster, password: password)
        let mover = try Meridian.start(
            ["player", "transfer", "--player", player, "--to", "region-b", "--json", "--topology", cluster.topologyPath],
            log: cluster.directory.appendingPathComponent("transfer-paused.log")
        )
        let pausedPID = b.processIdentifier
        let stopped = try await eventually { Self.isStopped(pausedPID) }
        #expect(stopped, "b-1 stopped itself after its import")
        _ = try await cluster.waitForStatus(timeout: .seconds(60)) { rows in
            rows.contains { $0.node == "b-1" && ($0.state == "down" || $0.state == "removed") }
        }
        let during = try cluster.meridian(["ledger", "audit"])
        #expect(during.status == 0, "audit with the destination paused: \(during.output)")

        kill(pausedPID, SIGCONT)
        let (after, _) = try await cluster.waitForStatus(timeout: .seconds(60)) { rows in
            rows.contains { $0.node == "b-1" && $0.state == "up" && $0.incarnation != firstIncarnation }
        }
        #expect(b.isRunning && b.processIdentifier == pausedPID, "b-1 rejoined in its own process (\(cluster.directory.path))")
        let rejoined = after.first { $0.node == "b-1" && $0.state == "up" }
        #expect((rejoined?.incarnation ?? 0) > firstIncarnation, "b-1 is a new incarnation")
        let finished = try await eventually(timeout: .seconds(120)) { !mover.isRunning }
        try #require(finished, "the transfer finishes once b-1 is back (\(cluster.directory.path))")
        #expect(mover.terminationStatus == 0, "the transfer waited for the destination (\(cluster.directory.path))")
        try await expectMoved(player, in: cluster)

        for process in [a, b] { process.terminate() }
        for process in [a, b] { try await process.exited() }
        try? FileManager.default.removeItem(at: cluster.directory)
    }

    /// Whether process `pid` is stopped (state `T` in /proc/PID/stat).
    static func isStopped(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(close, offsetBy: 2)...].first == "T"
    }

    /// A user's mistake exits 1 (not ArgumentParser's 64), like every `meridian` command.
    @Test func aMalformedRequestExitsOne() throws {
        #expect(try Meridian.run(["player", "transfer", "--topology", "none.yaml", "--player", "not-a-uuid", "--to", "us-east"]).status == 1)
        #expect(try Meridian.run(["player", "transfer", "--no-such-option"]).status == 1)
        #expect(try Meridian.run(["player", "transfer", "--help"]).status == 0)
    }
}
