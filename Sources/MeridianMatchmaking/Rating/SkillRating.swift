/// A player's skill on the Glicko-2 scale, as players see it (1500 is the starting rating).
///
/// `deviation` is the uncertainty of `rating` (one standard deviation, in rating points) and
/// `volatility` how erratic the player's results are expected to be; both shrink as the
/// player plays and ``Glicko2`` updates them.
public struct SkillRating: Sendable, Hashable {
    /// Rating points; 1500 for a new player.
    public var rating: Double
    /// Rating deviation (RD): 350 for a new player, about 30–50 for a regular one.
    public var deviation: Double
    /// Glicko-2 volatility σ: 0.06 for a new player.
    public var volatility: Double

    /// A new player: 1500 ± 350, volatility 0.06 (the values Glickman recommends).
    public static let initial = SkillRating(rating: 1500, deviation: 350, volatility: 0.06)

    public init(rating: Double, deviation: Double, volatility: Double) {
        self.rating = rating
        self.deviation = deviation
        self.volatility = volatility
    }

    /// Finite rating, positive finite deviation and volatility: what the matchmaker accepts.
    public var isValid: Bool {
        self.rating.isFinite && self.deviation.isFinite && self.deviation > 0
            && self.volatility.isFinite && self.volatility > 0
    }
}
