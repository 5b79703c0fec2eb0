import Foundation
import MeridianTransport
import Testing

/// `meridian topology apply` on real processes while bots play: a node added to a region joins
/// with `bootstrap --seed` and hosts matches, a bad file changes nothing, the node removed again
/// drains and exits, no match is lost; a node down during an apply runs the new version once it
/// is back, though it is started with the old file.
@Suite("End to end: live topology changes", .serialized)
struct TopologyProcessesTests {
    static let bots = 40

    static func json(_ output: String) -> Any? {
        output.split(separator: "\n").last { $0.hasPrefix("{") || $0.hasPrefix("[") }.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
    }

    @Test(.timeLimit(.minutes(6)))
    func aNodeAddedWhileBotsPlayJoinsHostsMatchesAndLeavesAgainWithNoMatchLost() async throws {
        let cluster = try await ProcessCluster(
            "e2e-topology", directoryPrefix: "meridian-e2e-topology",
            regions: [.init("eu-west", shards: 4, nodes: ["eu-west-1"]), .init("us-east", shards: 4, nodes: ["us-east-1"])],
            latency: ["eu-west/us-east": 60], catalogPrimary: "eu-west", seeds: ["eu-west-1"]
        )
        let directory = cluster.directory
        let made = try Meridian.run(["admin", "token", "--name", "e2e-ops", "--role", "operator", "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(made.output.utf8)) as? [String: String])
        let tokens = try cluster.write("admin-tokens", try #require(document["line"]) + "\n")
        let tokenFile = try cluster.write("admin-token", try #require(document["token"]))
        let nodeEnvironment = ["MERIDIAN_ADMIN_TOKENS_FILE": tokens]
        func meridian(_ arguments: [String]) throws -> (status: Int32, output: String) {
            try Meridian.run(arguments, withErrors: true, environment: ["MERIDIAN_ADMIN_TOKEN_FILE": tokenFile])
        }

        let catalog = try cluster.write("catalog.yaml", ProcessCluster.shortMatchCatalog)
        var nodes = try ["eu-west-1", "us-east-1"].map { ($0, try cluster.start($0, environment: nodeEnvironment)) }
        defer { for (_, node) in nodes where node.isRunning { kill(node.processIdentifier, SIGKILL) } }
        var published = false
        for _ in 0..<120 where !published {
            published = try meridian(["catalog", "publish", catalog, "--topology", cluster.topologyPath]).status == 0
            if !published { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(published)
        try await Task.sleep(for: .seconds(2))  // every node serves the catalog's rules

        let reportFile = directory.appendingPathComponent("loadtest.json")
        let loadtest = try Meridian.start(
            ["loadtest", "--topology", cluster.topologyPath, "--players", "\(Self.bots)", "--ramp", "3", "--duration", "30", "--grace", "60", "--json"],
            log: reportFile
        )
        defer { if loadtest.isRunning { kill(loadtest.processIdentifier, SIGKILL) } }
        try await Task.sleep(for: .seconds(6))

        // v2: a third node, in us-east, holding no players (the region keeps them in SQLite).
        let original = try String(contentsOfFile: cluster.topologyPath, encoding: .utf8)
        let ports = try await freeTCPPorts(2)
        let added = "  - { id: us-east-2, region: us-east, cluster: \"127.0.0.1:\(ports[0])\", gateway: \"127.0.0.1:\(ports[1])\", players: false }\n"
        let v2 = try cluster.write("topology-v2.yaml", original.replacingOccurrences(of: "version: 1", with: "version: 2") + added)
        let appliedAt = ContinuousClock.now
        let apply2 = try meridian(["topology", "apply", "--topology", v2, "--json"])
        #expect(apply2.status == 0, "\(apply2.output)")
        let result2 = Self.json(apply2.output) as? [String: Any]
        #expect(result2?["applied"] as? Bool == true, "\(apply2.output)")

        let joining = try Meridian.start(
            ["bootstrap", "--seed", try #require(cluster.addresses["us-east-1"]).cluster, "--cluster", "e2e-topology", "--node", "us-east-2", "--region", "us-east",
             "--listen", "127.0.0.1:\(ports[0])"],
            log: directory.appendingPathComponent("us-east-2-0.log"), environment: nodeEnvironment
        )
        nodes.append(("us-east-2", joining))
        // It serves shards once a match of its own runs: the placement moved some at their next match.
        var hostedAfter: Duration?
        for _ in 0..<240 where hostedAfter == nil {
            try await Task.sleep(for: .milliseconds(250))
            let list = try Meridian.run(["match", "list", "--json", "--topology", v2])  // v2 names the new node
            if list.output.contains(#""node":"us-east-2""#) { hostedAfter = ContinuousClock.now - appliedAt }
        }
        let hosted = try #require(hostedAfter, "us-east-2 never hosted a match (logs in \(directory.path))")
        print("topology apply → us-east-2 hosting a match: \(hosted)")
        let show = try meridian(["topology", "show", "--topology", v2, "--json"])
        let rows = Self.json(show.output) as? [[String: Any]] ?? []
        let versions = Set(rows.compactMap { $0["version"] as? Int })
        let shown = Set(rows.compactMap { $0["node"] as? String })
        #expect(versions == [2], "\(show.output)")
        #expect(shown == ["eu-west-1", "us-east-1", "us-east-2"], "\(show.output)")

        // A bad v3 (a running node moved) changes nothing anywhere.
        let usEastGateway = try #require(cluster.addresses["us-east-1"]).gateway
        let movedGateway = "127.0.0.1:\(try await freeTCPPorts(1)[0])"
        let v2Text = try String(contentsOfFile: v2, encoding: .utf8)
        let badText = v2Text.replacingOccurrences(of: "version: 2", with: "version: 3").replacingOccurrences(of: usEastGateway, with: movedGateway)
        let bad = try cluster.write("topology-bad.yaml", badText)
        let refused = try meridian(["topology", "apply", "--topology", bad])
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.output.contains("node us-east-1 changes its cluster or gateway address"), "\(refused.output)")
        #expect(refused.output.contains("not applied: nothing changed"))

        // More bots, who locate the region's gateways now: some play at us-east-2.
        let lateReportFile = directory.appendingPathComponent("loadtest-late.json")
        let late = try Meridian.start(
            ["loadtest", "--topology", v2, "--players", "16", "--first-bot", "\(Self.bots)", "--ramp", "1", "--duration", "14", "--grace", "60", "--json"],
            log: lateReportFile
        )
        defer { if late.isRunning { kill(late.processIdentifier, SIGKILL) } }
        try await Task.sleep(for: .seconds(6))

        // v3: us-east-2 removed again: it drains (its clients are told where to go) and exits.
        let v3 = try cluster.write("topology-v3.yaml", original.replacingOccurrences(of: "version: 1", with: "version: 3"))
        let apply3 = try meridian(["topology", "apply", "--topology", v3])
        #expect(apply3.status == 0, "\(apply3.output)")
        try await joining.exited(within: .seconds(120))
        #expect(joining.terminationStatus == 0)
        try await late.exited(within: .seconds(120))
        let lateOutput = try String(contentsOf: lateReportFile, encoding: .utf8)
        let lateReport = try #require(Self.json(lateOutput) as? [String: Any], "report: \(lateOutput)")
        print("late loadtest: redirects \(lateReport["redirects"] ?? "?"), hand_over_p99_ms \(lateReport["hand_over_p99_ms"] ?? "?"), matches_lost \(lateReport["matches_lost"] ?? "?")")
        #expect((lateReport["redirects"] as? Int ?? 0) > 0, "the bots at us-east-2 were redirected: \(lateReport)")
        #expect(lateReport["disconnects"] as? Int == 0, "\(lateReport)")
        #expect(lateReport["matches_lost"] as? Int == 0, "\(lateReport)")
        #expect((lateReport["errors"] as? [String: Any])?.isEmpty == true, "\(lateReport)")

        while loadtest.isRunning { try await Task.sleep(for: .milliseconds(250)) }
        let output = try String(contentsOf: reportFile, encoding: .utf8)
        let report = try #require(Self.json(output) as? [String: Any], "report: \(output)")
        print("loadtest: matches_finished \(report["matches_finished"] ?? "?"), matches_lost \(report["matches_lost"] ?? "?"), redirects \(report["redirects"] ?? "?"), disconnects \(report["disconnects"] ?? "?")")
        #expect(report["logged_in"] as? Int == Self.bots)
        #expect(report["matches_lost"] as? Int == 0, "no match lost to the change: \(report)")
        #expect((report["matches_finished"] as? Int ?? 0) >= Self.bots, "\(report)")
        #expect((report["errors"] as? [String: Any])?.isEmpty == true, "\(report) (logs in \(directory.path))")

        // us-east-1 down during v4; restarted with its original file, it runs v4.
        kill(nodes[1].1.processIdentifier, SIGKILL)
        try await nodes[1].1.exited()
        _ = try await cluster.waitForStatus(timeout: .seconds(60)) { rows in
            rows.contains { $0.node == "us-east-1" && ($0.state == "down" || $0.state == "removed") }
        }
        let v4Text = original.replacingOccurrences(of: "version: 1", with: "version: 4").replacingOccurrences(of: "eu-west: { shards: 4", with: "eu-west: { shards: 6")
        let v4 = try cluster.write("topology-v4.yaml", v4Text)
        let apply4 = try meridian(["topology", "apply", "--topology", v4])
        #expect(apply4.status == 0, "\(apply4.output)")
        nodes[1].1 = try cluster.start("us-east-1", run: 1, environment: nodeEnvironment)
        var caughtUp = false
        for _ in 0..<240 where !caughtUp {
            try await Task.sleep(for: .milliseconds(250))
            let rows = Self.json(try meridian(["topology", "show", "--topology", v4, "--json"]).output) as? [[String: Any]] ?? []
            caughtUp = rows.contains { row in row["node"] as? String == "us-east-1" && row["version"] as? Int == 4 }
        }
        #expect(caughtUp, "us-east-1 runs v4 after its restart (logs in \(directory.path))")

        // Two operators apply two different v5 files at once: exactly one wins, everywhere.
        let v5a = try cluster.write("topology-v5a.yaml", v4Text.replacingOccurrences(of: "version: 4", with: "version: 5").replacingOccurrences(of: "us-east: { shards: 4", with: "us-east: { shards: 5"))
        let v5b = try cluster.write("topology-v5b.yaml", v4Text.replacingOccurrences(of: "version: 4", with: "version: 5").replacingOccurrences(of: "us-east: { shards: 4", with: "us-east: { shards: 7"))
        let outputs = [directory.appendingPathComponent("apply-v5a.out"), directory.appendingPathComponent("apply-v5b.out")]
        let racing = try zip([v5a, v5b], outputs).map { file, output in
            try Meridian.start(["topology", "apply", "--topology", file, "--json"], log: output, environment: ["MERIDIAN_ADMIN_TOKEN_FILE": tokenFile])
        }
        for process in racing { try await process.exited(within: .seconds(60)) }
        let statuses = racing.map(\.terminationStatus)
        #expect(statuses.sorted() == [0, 1], "one apply wins, the other is refused: \(statuses)")
        let finalRows = Self.json(try meridian(["topology", "show", "--topology", v4, "--json"]).output) as? [[String: Any]] ?? []
        let finalVersions = Set(finalRows.compactMap { $0["version"] as? Int })
        #expect(finalVersions == [5], "\(finalRows)")
        let winner = statuses[0] == 0 ? v5a : v5b
        let kept = try String(contentsOfFile: directory.appendingPathComponent("us-east/us-east-1.topology.yaml").path, encoding: .utf8)
        #expect(kept == (try String(contentsOfFile: winner, encoding: .utf8)), "the winner's file is what the nodes keep")

        for (_, node) in nodes where node.isRunning { node.terminate() }
        for (_, node) in nodes { try await node.exited(within: .seconds(120)) }
        if (report["errors"] as? [String: Any])?.isEmpty == true, caughtUp { try? FileManager.default.removeItem(at: directory) }
    }
}
