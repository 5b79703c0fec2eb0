import Foundation
import Testing

/// Real `meridian bootstrap` processes: players homed in region-b play matches on region-a's
/// two nodes; one of those is killed with SIGKILL mid-match. Its matches end with a
/// "server_lost" result at the players' homes, nobody is left stuck, the freed players play
/// again on the node that is left (its shards moved), the other matches finish with their
/// rewards, and the ledger audit balances.
@Suite("matches survive kill -9 of their node", .serialized)
struct MatchCrashProcessesTests {
    let cluster: ProcessCluster

    init() async throws {
        cluster = try await ProcessCluster(
            "e2e-match", directoryPrefix: "meridian-e2e-match",
            regions: [.init("region-a", shards: 8, nodes: ["a-1", "a-2"]), .init("region-b", shards: 4, nodes: ["b-1"])],
            latency: ["region-a/region-b": 10], catalogPrimary: "region-b", seeds: ["a-1", "b-1"]
        )
    }

    /// Two-player matches that start at once and last 20 s.
    func writeCatalog() throws -> String {
        try cluster.write("catalog.yaml", """
            items:
              - { id: gold, name: Gold, category: currency }
            config:
              match_min_players: 2
              match_max_players: 2
              match_lobby_wait_s: 0.2
              match_countdown_s: 0.2
              match_time_limit_s: 20
              match_reward_item: gold
              match_reward_play: 10
              matchmaking_full_match_wait_s: 0
            """)
    }

    struct Seen {
        var state: String
        var node: String?
        var match: String?
        var outcomes: [String]
        var gold: Int64
    }

    func show(_ player: String) throws -> Seen? {
        let (status, output) = try cluster.meridian(["player", "show", "--player", player, "--region", "region-b", "--json"])
        guard status == 0, let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
              let session = object["session"] as? [String: Any], let state = session["state"] as? String
        else { return nil }
        let matches = (object["matches"] as? [[String: Any]]) ?? []
        let gold = ((object["balances"] as? [String: Any])?["gold"] as? NSNumber)?.int64Value ?? 0
        return Seen(state: state, node: session["node"] as? String, match: session["match"] as? String,
                    outcomes: matches.compactMap { $0["outcome"] as? String }, gold: gold)
    }

    func queue(_ player: String) throws -> Bool {
        try cluster.meridian(["match", "queue", "--region", "region-a", "--player", "\(player)@region-b"]).status == 0
    }

    @Test func killingANodeMidMatchEndsItsMatchesAndMovesItsShards() async throws {
        let processes = try ["a-1", "a-2", "b-1"].map { try cluster.start($0) }
        defer { for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let catalog = try writeCatalog()
        let value1 = try await eventually { try cluster.meridian(["catalog", "publish", catalog]).status == 0 }
        #expect(value1)
        let players = (0..<4).map { _ in UUID().uuidString.lowercased() }
        for (index, player) in players.enumerated() {
            let value2 = try await eventually { try cluster.meridian(["player", "create", "--player", player, "--region", "region-b", "--name", "p\(index)"]).status == 0 }
            #expect(value2)
        }
        // Every node must serve the catalog's rules before the matches start.
        try await Task.sleep(for: .seconds(2))
        for player in players { #expect(try queue(player)) }
        let value3 = try await eventually { try players.allSatisfy { try show($0)?.state == "in_match" } }
        #expect(value3, "all four are seated")
        var seats: [Seen] = []
        for player in players { seats.append(try #require(try show(player))) }
        let victim = try #require(seats[0].node)
        #expect(victim.hasPrefix("a-"))
        let survivor = victim == "a-1" ? "a-2" : "a-1"
        let lost = players.indices.filter { seats[$0].node == victim }
        let kept = players.indices.filter { seats[$0].node != victim }

        let index = victim == "a-1" ? 0 : 1
        kill(processes[index].processIdentifier, SIGKILL)
        try await processes[index].exited()

        // Its matches end with "server_lost" at the homes; the players are free again.
        let value4 = try await eventually {
            try lost.allSatisfy { let seen = try show(players[$0]); return seen?.state == "idle" && seen?.outcomes == ["server_lost"] }
        }
        #expect(value4, "players of the lost node got a server_lost result")
        // They play again, on the node that is left.
        for index in lost { #expect(try queue(players[index])) }
        let value5 = try await eventually {
            try lost.allSatisfy { try show(players[$0])?.node == survivor }
        }
        #expect(value5, "the freed players play on \(survivor)")

        // Matches on the survivor run to their time limit and pay out once.
        let value6 = try await eventually(timeout: .seconds(90)) {
            try players.allSatisfy { try show($0)?.state == "idle" }
        }
        #expect(value6, "every match finished")
        for index in kept {
            let seen = try #require(try show(players[index]))
            #expect(seen.outcomes == ["draw"])
            #expect(seen.gold == 10)
        }
        for index in lost {
            let seen = try #require(try show(players[index]))
            #expect(seen.outcomes.sorted() == ["draw", "server_lost"])
            #expect(seen.gold == 10, "a lost match pays nothing, the replayed one pays once")
        }
        let audit = try cluster.meridian(["ledger", "audit"])
        #expect(audit.status == 0, "audit: \(audit.output)")
        for process in processes where process.isRunning { process.terminate() }
        for process in processes { try await process.exited() }
        try? FileManager.default.removeItem(at: cluster.directory)
    }
}
