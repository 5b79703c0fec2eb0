import Foundation
import Testing

/// Real processes end to end: three regions of one `meridian bootstrap` node each, and
/// `meridian loadtest` bots that locate, measure, play on their nearest region and queue again.
/// Every bot ends on its nearest region and finishes matches; every reward shows exactly once
/// in the bot's home-region ledger; the ledger audit balances.
@Suite("bots play through the gateways", .serialized)
struct BotsProcessesTests {
    static let bots = 30

    @Test(.disabled("flaky in the full parallel suite: a bot sometimes waits for an event that never comes (the worker watchdog then reports it); re-enable when the cause is found"), .timeLimit(.minutes(5)))
    func botsPlayOnTheirNearestRegionAndEveryRewardIsPaidOnce() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-e2e-bots-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ports = try Meridian.freePorts(6)
        let yaml = """
            cluster: e2e-bots
            version: 1
            regions:
              eu-west: { shards: 4, storage: "sqlite:\(directory.path)/eu-west" }
              us-east: { shards: 4, storage: "sqlite:\(directory.path)/us-east" }
              ap-south: { shards: 4, storage: "sqlite:\(directory.path)/ap-south" }
            latency_ms:
              eu-west/us-east: 40
              eu-west/ap-south: 70
              us-east/ap-south: 110
            catalog_primary: eu-west
            identity_authority: eu-west
            seeds: [eu-west-1]
            nodes:
              - { id: eu-west-1, region: eu-west, cluster: "127.0.0.1:\(ports[0])", gateway: "127.0.0.1:\(ports[1])" }
              - { id: us-east-1, region: us-east, cluster: "127.0.0.1:\(ports[2])", gateway: "127.0.0.1:\(ports[3])" }
              - { id: ap-south-1, region: ap-south, cluster: "127.0.0.1:\(ports[4])", gateway: "127.0.0.1:\(ports[5])" }
            """
        let topology = directory.appendingPathComponent("topology.yaml").path
        try yaml.write(toFile: topology, atomically: true, encoding: .utf8)
        let catalog = directory.appendingPathComponent("catalog.yaml").path
        try """
            items:
              - { id: gold, name: Gold, category: currency }
            config:
              match_min_players: 2
              match_max_players: 4
              match_lobby_wait_s: 0.5
              match_countdown_s: 0.5
              match_time_limit_s: 4
              match_reward_item: gold
              match_reward_play: 10
              match_reward_win: 100
              matchmaking_full_match_wait_s: 1
              matchmaking_overflow_after_s: 0
            """.write(toFile: catalog, atomically: true, encoding: .utf8)

        let nodes = try ["eu-west-1", "us-east-1", "ap-south-1"].map {
            try Meridian.start(["bootstrap", "--topology", topology, "--node", $0], log: directory.appendingPathComponent("\($0).log"))
        }
        defer { for node in nodes where node.isRunning { kill(node.processIdentifier, SIGKILL) } }
        var published = false
        for _ in 0..<120 where !published {
            published = try Meridian.run(["catalog", "publish", "--topology", topology, catalog]).status == 0
            if !published { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(published)
        try await Task.sleep(for: .seconds(2))  // every node serves the catalog's rules

        let run = try Meridian.run(["loadtest", "--topology", topology, "--players", "\(Self.bots)", "--ramp", "3", "--duration", "12", "--json"])
        #expect(run.status == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], "report: \(run.output)")
        #expect(report["logged_in"] as? Int == Self.bots)
        #expect(report["on_nearest_region"] as? Int == Self.bots, "every bot plays on the region of its location: \(report)")
        #expect((report["matches_finished"] as? Int ?? 0) >= Self.bots, "\(report)")
        #expect((report["errors"] as? [String: Any])?.isEmpty == true, "\(report)")

        // Each bot's home ledger: every finished match paid exactly once (10 gold, +100 for a win).
        let list = try Meridian.run(["loadtest", "bots", "--topology", topology, "--players", "\(Self.bots)"])
        let bots = list.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.filter { $0.count == 3 }
        #expect(bots.count == Self.bots)
        for bot in bots {
            let (index, id, home) = (bot[0], bot[1], bot[2])
            let show = try Meridian.run(["player", "show", "--topology", topology, "--player", id, "--region", home, "--json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(show.output.utf8)) as? [String: Any], "bot \(index): \(show.output)")
            let matches = try #require(object["matches"] as? [[String: Any]])
            #expect(!matches.isEmpty, "bot \(index) finished a match")
            #expect(Set(matches.compactMap { $0["match"] as? String }).count == matches.count, "no match recorded twice")
            let expected = matches.reduce(Int64(0)) { total, match in
                switch match["outcome"] as? String {
                case "win": total + 110
                case "loss", "draw": total + 10
                default: total
                }
            }
            let gold = ((object["balances"] as? [String: Any])?["gold"] as? NSNumber)?.int64Value ?? 0
            #expect(gold == expected, "bot \(index): \(gold) gold for \(matches)")
        }
        let audit = try Meridian.run(["ledger", "audit", "--topology", topology])
        #expect(audit.status == 0, "audit: \(audit.output)")
        for node in nodes { node.terminate() }
        for node in nodes { node.waitUntilExit() }
        try? FileManager.default.removeItem(at: directory)
    }
}
