/// Fixed-point helpers: every simulated quantity is an integer so the same inputs give
/// the same state on every machine.
///
/// Lengths are in *subunits*, 1/256 of a world unit; angles are `UInt16` turns (65,536 = 360°).
public enum FixedPoint {
    /// Subunits per world unit.
    public static let one: Int32 = 256
    /// Fixed-point scale of ``unitVector(angle:)`` components.
    public static let trigScale: Int64 = 1 << 16

    /// Integer square root (floor) of a non-negative value.
    @inlinable
    public static func squareRoot(_ value: Int64) -> Int64 {
        guard value > 0 else { return 0 }
        var x = Int64(Double(value).squareRoot())
        // Correct the double estimate so the result is exact and platform independent.
        while x * x > value { x -= 1 }
        while (x + 1) * (x + 1) <= value { x += 1 }
        return x
    }

    /// The unit vector for an angle, each component scaled by ``trigScale``.
    @inlinable
    public static func unitVector(angle: UInt16) -> (x: Int64, y: Int64) {
        let index = Int(angle >> 6)  // 1,024 steps per turn
        return (cosineTable[index], cosineTable[(index + 768) & 1023])
    }

    /// cos(2π i / 1024) · 2¹⁶, built with + and × only (a Taylor series) so it is the same everywhere.
    public static let cosineTable: [Int64] = (0..<1024).map { i in
        let x = Double(i) * (2 * Double.pi / 1024)
        // Reduce to [-π, π] so the series converges quickly.
        let r = x > Double.pi ? x - 2 * Double.pi : x
        var term = 1.0
        var sum = 1.0
        for n in stride(from: 2, through: 30, by: 2) {
            term *= -r * r / Double((n - 1) * n)
            sum += term
        }
        return Int64((sum * 65_536).rounded())
    }
}
