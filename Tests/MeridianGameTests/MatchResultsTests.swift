import Foundation
@testable import MeridianGame
import MeridianMatchmaking
import MeridianRegion
import MeridianSimulation
import Testing

@Suite("Match results")
struct MatchResultsTests {
    static let skill = SkillRating(rating: 1500, deviation: 200, volatility: 0.06)

    static func participants(_ count: Int) -> [MatchResults.Participant] {
        (0..<count).map {
            MatchResults.Participant(seat: MatchSeat(player: UUID(), homeRegion: "eu-west", skill: skill, ticketID: UUID()), simulationIndex: $0, forfeited: false)
        }
    }

    /// A played-out match: the last one standing wins, the others rank by how long they lasted,
    /// the winner's rating rises and the first eliminated falls; rewards and XP follow the rules.
    @Test func lastPlayerStandingRanksByElimination() throws {
        var configuration = SimulationConfiguration(tickRate: 30, maxPlayers: 3)
        configuration.arenaWidth = 20
        configuration.arenaHeight = 20
        var simulation = MatchSimulation(configuration: configuration)
        // Player 0 faces the others at point blank and shoots until it is the last one.
        simulation.place(0, x: 5, y: 10, aim: 0)
        simulation.place(1, x: 8, y: 10, aim: 32768)
        simulation.place(2, x: 12, y: 10, aim: 32768)
        var eliminations: [Int] = []
        var sequence: UInt32 = 0
        while simulation.outcome == nil, simulation.tick < 3000 {
            sequence += 1
            simulation.enqueue(PlayerInput(sequence: sequence, aim: 0, fire: true, reload: sequence % 20 == 0), for: 0)
            simulation.step()
            for case .eliminated(let target, _) in simulation.events { eliminations.append(Int(target)) }
        }
        let winnerFound = simulation.players.firstIndex { $0.isAlive }
        let winner = try #require(winnerFound)
        let rules = GameRules()
        let participants = Self.participants(3)
        let results = MatchResults.compute(
            matchID: UUID(), participants: participants, simulation: simulation, eliminationOrder: eliminations, rules: rules, finishedAt: Date()
        )
        #expect(results[winner].outcome == "win")
        #expect(results[winner].placement == 0)
        #expect(results[winner].xp == rules.winXP)
        #expect(results[winner].rewards[rules.rewardItem] == rules.playReward + rules.winReward)
        #expect(results[winner].skillAfter!.rating > Self.skill.rating)
        let first = try #require(eliminations.first)
        #expect(results[first].outcome == "loss")
        #expect(results[first].placement == 2)
        #expect(results[first].skillAfter!.rating < Self.skill.rating)
        #expect(Set(results.map(\.player)) == Set(participants.map(\.seat.player)))
    }

    /// Several survivors at the time limit share first place: a draw for each.
    @Test func survivorsAtTheTimeLimitDraw() {
        let simulation = MatchSimulation(configuration: SimulationConfiguration(tickRate: 30, maxPlayers: 2))
        let results = MatchResults.compute(
            matchID: UUID(), participants: Self.participants(2), simulation: simulation, eliminationOrder: [], rules: GameRules(), finishedAt: Date()
        )
        #expect(results.map(\.outcome) == ["draw", "draw"])
        #expect(results.map(\.placement) == [0, 0])
    }

    /// A match closed before it started, or a player who forfeited: "abandoned", nothing earned, rating unchanged.
    @Test func abandonedEarnsNothing() {
        var participants = Self.participants(2)
        let closed = MatchResults.compute(
            matchID: UUID(), participants: participants, simulation: nil, eliminationOrder: [], rules: GameRules(), finishedAt: Date()
        )
        let value2 = closed.allSatisfy { $0.outcome == "abandoned" && $0.xp == 0 && $0.rewards.isEmpty && $0.skillAfter == nil }
        #expect(value2)
        participants[1].forfeited = true
        let simulation = MatchSimulation(configuration: SimulationConfiguration(tickRate: 30, maxPlayers: 2))
        let forfeit = MatchResults.compute(
            matchID: UUID(), participants: participants, simulation: simulation, eliminationOrder: [], rules: GameRules(), finishedAt: Date()
        )
        #expect(forfeit[0].outcome == "win")
        #expect(forfeit[1].outcome == "abandoned")
    }
}
