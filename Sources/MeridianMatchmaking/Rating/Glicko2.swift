import Foundation

/// Mark Glickman's Glicko-2 rating system ("Example of the Glicko-2 system", 2013), exactly as
/// the paper describes it: one call is one rating period.
public enum Glicko2 {
    /// The ratio between the Glicko scale (1500 ± 350) and the Glicko-2 scale (0 ± 2.01).
    static let scale = 173.7178
    /// How close the volatility iteration must get before it stops (the paper's ε).
    static let convergence = 1e-6

    /// One rating period: the player's new rating after games against `opponents` with scores
    /// 1 (win), 0.5 (draw), 0 (loss). All opponents are taken at their pre-period ratings.
    ///
    /// Uses the Illinois variant of regula falsi for the new volatility (step 5 of the paper)
    /// with convergence 1e-6. With no games only the deviation changes: it grows to
    /// √(φ² + σ²) (step 6), as the paper says for a player who did not compete.
    ///
    /// - Parameter tau: The system constant τ constraining volatility changes over time
    ///   (the paper suggests 0.3–1.2; 0.5 by default).
    public static func update(_ player: SkillRating, results: [(opponent: SkillRating, score: Double)], tau: Double = 0.5) -> SkillRating {
        // Step 2: convert to the Glicko-2 scale.
        let mu = (player.rating - 1500) / scale
        let phi = player.deviation / scale
        let sigma = player.volatility

        guard !results.isEmpty else {
            let grown = (phi * phi + sigma * sigma).squareRoot()
            return SkillRating(rating: player.rating, deviation: grown * scale, volatility: sigma)
        }

        // Step 3 and 4: estimated variance v and improvement Δ.
        var inverseVariance = 0.0
        var weightedSurprise = 0.0
        for (opponent, score) in results {
            let muJ = (opponent.rating - 1500) / scale
            let phiJ = opponent.deviation / scale
            let g = self.g(phiJ)
            let expected = 1 / (1 + exp(-g * (mu - muJ)))
            inverseVariance += g * g * expected * (1 - expected)
            weightedSurprise += g * (score - expected)
        }
        let v = 1 / inverseVariance
        let delta = v * weightedSurprise

        // Step 5: the new volatility.
        let newSigma = self.volatility(sigma: sigma, phi: phi, v: v, delta: delta, tau: tau)

        // Step 6 and 7: the new deviation and rating.
        let phiStar = (phi * phi + newSigma * newSigma).squareRoot()
        let newPhi = 1 / (1 / (phiStar * phiStar) + 1 / v).squareRoot()
        let newMu = mu + newPhi * newPhi * weightedSurprise

        // Step 8: back to the Glicko scale.
        return SkillRating(rating: newMu * scale + 1500, deviation: newPhi * scale, volatility: newSigma)
    }

    /// For a free-for-all match: each player's new rating, treating the match as one game
    /// against every other player (win against those placed lower, draw against those placed
    /// equal, loss against those placed higher), all at their pre-match ratings.
    ///
    /// - Parameters:
    ///   - players: The players' ratings before the match.
    ///   - placements: Index-aligned with `players`: 0 is the winner; equal values are ties.
    /// - Returns: The new ratings, index-aligned with `players`.
    public static func updateFreeForAll(_ players: [SkillRating], placements: [Int], tau: Double = 0.5) -> [SkillRating] {
        precondition(players.count == placements.count, "one placement per player")
        return players.indices.map { index in
            var results: [(opponent: SkillRating, score: Double)] = []
            results.reserveCapacity(players.count - 1)
            for other in players.indices where other != index {
                let score: Double
                if placements[index] < placements[other] {
                    score = 1
                } else if placements[index] == placements[other] {
                    score = 0.5
                } else {
                    score = 0
                }
                results.append((players[other], score))
            }
            return self.update(players[index], results: results, tau: tau)
        }
    }

    /// g(φ): how much an opponent's uncertainty dampens the result.
    static func g(_ phi: Double) -> Double {
        1 / (1 + 3 * phi * phi / (Double.pi * Double.pi)).squareRoot()
    }

    /// Step 5 of the paper: the root of f by the Illinois algorithm.
    static func volatility(sigma: Double, phi: Double, v: Double, delta: Double, tau: Double) -> Double {
        let a = log(sigma * sigma)
        let phi2 = phi * phi
        let delta2 = delta * delta
        func f(_ x: Double) -> Double {
            let ex = exp(x)
            let denominator = phi2 + v + ex
            return ex * (delta2 - phi2 - v - ex) / (2 * denominator * denominator) - (x - a) / (tau * tau)
        }

        var lower = a
        var upper: Double
        if delta2 > phi2 + v {
            upper = log(delta2 - phi2 - v)
        } else {
            var k = 1.0
            while f(a - k * tau) < 0 { k += 1 }
            upper = a - k * tau
        }
        var fLower = f(lower)
        var fUpper = f(upper)
        // Bounded: the iteration converges in a handful of steps; the cap only guards NaNs.
        var iterations = 0
        while abs(upper - lower) > convergence, iterations < 1_000 {
            iterations += 1
            let c = lower + (lower - upper) * fLower / (fUpper - fLower)
            let fC = f(c)
            if fC * fUpper <= 0 {
                lower = upper
                fLower = fUpper
            } else {
                fLower /= 2
            }
            upper = c
            fUpper = fC
        }
        return exp(lower / 2)
    }
}
