/// Experience and the level derived from it.
public struct Progression: Hashable, Sendable {
    public var xp: Int64
    /// Always ``ProgressionCurve/level(forXP:)`` of ``xp``; stored so that queries can sort by it.
    public var level: Int

    public init(xp: Int64) {
        self.xp = xp
        self.level = ProgressionCurve.level(forXP: xp)
    }
}

/// The level curve: reaching level `L` takes `50 · L · (L − 1)` XP in total, so each level costs
/// 100 XP more than the one before it (level 2 at 100 XP, 3 at 300, 4 at 600, 10 at 4,500, 100 at 495,000).
///
/// A triangular curve keeps early levels quick and later ones steady without a cap; changing it only
/// needs the stored `level` column recomputed, since XP is the source of truth.
public enum ProgressionCurve {
    /// XP added per level step: level `L` → `L+1` costs `step · L`.
    public static let step: Int64 = 100

    /// Total XP needed to reach `level` (1 needs none).
    public static func xpRequired(forLevel level: Int) -> Int64 {
        guard level > 1 else { return 0 }
        let l = Int64(level)
        let (pairs, pairsOverflow) = l.multipliedReportingOverflow(by: l - 1)
        let (product, overflow) = (step / 2).multipliedReportingOverflow(by: pairs)
        return pairsOverflow || overflow ? .max : product
    }

    /// The level a player with `xp` total experience has (at least 1).
    public static func level(forXP xp: Int64) -> Int {
        guard xp > 0 else { return 1 }
        // Solve 50·L·(L−1) ≤ xp with the closed form, then correct floating-point rounding.
        let estimate = (1 + (1 + 8 * Double(xp) / Double(step)).squareRoot()) / 2
        var level = max(1, Int(estimate))
        while level > 1 && xpRequired(forLevel: level) > xp { level -= 1 }
        // `.max` means "beyond Int64" (saturated), never reached.
        while case let next = xpRequired(forLevel: level + 1), next != .max, next <= xp { level += 1 }
        return level
    }
}
