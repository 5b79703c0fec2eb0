import MeridianMatchmaking
import Testing

@Suite("Glicko-2")
struct Glicko2Tests {
    @Test("matches the worked example of Glickman's paper")
    func paperExample() {
        let player = SkillRating(rating: 1500, deviation: 200, volatility: 0.06)
        let results: [(opponent: SkillRating, score: Double)] = [
            (SkillRating(rating: 1400, deviation: 30, volatility: 0.06), 1),
            (SkillRating(rating: 1550, deviation: 100, volatility: 0.06), 0),
            (SkillRating(rating: 1700, deviation: 300, volatility: 0.06), 0),
        ]
        let updated = Glicko2.update(player, results: results)
        #expect(abs(updated.rating - 1464.06) < 0.01)
        #expect(abs(updated.deviation - 151.52) < 0.01)
        #expect(abs(updated.volatility - 0.05999) < 0.00001)
    }

    @Test("no games: only the deviation grows, to √(φ² + σ²)")
    func noGames() {
        let player = SkillRating(rating: 1700, deviation: 50, volatility: 0.06)
        let updated = Glicko2.update(player, results: [])
        #expect(updated.rating == 1700)
        #expect(updated.volatility == 0.06)
        let phi = 50 / 173.7178
        #expect(abs(updated.deviation - (phi * phi + 0.06 * 0.06).squareRoot() * 173.7178) < 1e-9)
        #expect(updated.deviation > 50)
    }

    @Test("free-for-all: the winner goes up, the last goes down, ties are draws")
    func freeForAll() {
        let players = Array(repeating: SkillRating(rating: 1500, deviation: 200, volatility: 0.06), count: 4)
        let updated = Glicko2.updateFreeForAll(players, placements: [2, 0, 3, 1])
        #expect(updated.count == 4)
        #expect(updated[1].rating > 1500)
        #expect(updated[2].rating < 1500)
        #expect(updated[1].rating > updated[3].rating)
        #expect(updated[3].rating > updated[0].rating)
        #expect(updated[0].rating > updated[2].rating)

        let tied = Glicko2.updateFreeForAll(Array(players.prefix(2)), placements: [0, 0])
        #expect(abs(tied[0].rating - 1500) < 1e-6)
        #expect(abs(tied[1].rating - 1500) < 1e-6)
    }
}
