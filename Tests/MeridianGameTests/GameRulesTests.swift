import Foundation
import MeridianCatalog
import MeridianGame
import MeridianMatchmaking
import MeridianSimulation
import Testing

@Suite("Game rules from the catalog")
struct GameRulesTests {
    static let exampleCatalog = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Topology/catalogs/example.yaml").path

    @Test func theExampleCatalogSetsTheRules() throws {
        let rules = GameRules(config: try CatalogLoader.load(path: Self.exampleCatalog).config)
        #expect(rules.tickRate == 30)
        #expect(rules.minPlayers == 2)
        #expect(rules.maxPlayers == 10)
        #expect(rules.timeLimitSeconds == 120)
        #expect(rules.lobbyWait == .seconds(2))
        #expect(rules.rewardItem == "gold")
        #expect(rules.winReward == 100)
        #expect(rules.matchmaking.overflowAfter == .seconds(10))
        #expect(rules.matchmaking.minPlayers == 2)
        #expect(rules.matchmaking.maxPlayers == 10)
        #expect(rules.simulation(players: 10, seed: 1).timeLimit == 120)
    }

    /// Missing or out-of-range keys keep the documented defaults; seats never drop below the minimum.
    @Test func outOfRangeValuesKeepTheDefaults() {
        let rules = GameRules(config: GameConfig([
            "match_tick_hz": .int(0),
            "match_min_players": .int(6),
            "match_max_players": .int(4),
            "match_countdown_s": .double(-1),
            "matchmaking_overflow_after_s": .int(0),
        ]))
        let defaults = GameRules()
        #expect(rules.tickRate == defaults.tickRate)
        #expect(rules.minPlayers == 6)
        #expect(rules.maxPlayers == 6)
        #expect(rules.countdown == defaults.countdown)
        #expect(rules.matchmaking.overflowAfter == nil, "0 means never overflow")
    }
}
