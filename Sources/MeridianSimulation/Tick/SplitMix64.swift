/// A small seeded pseudo-random generator (SplitMix64): the same seed gives the same
/// sequence everywhere, which keeps spawns deterministic.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (bound > 0) by multiply-shift, independent of the standard library's algorithm.
    public mutating func next(below bound: UInt32) -> UInt32 {
        UInt32((UInt64(UInt32(truncatingIfNeeded: self.next() >> 32)) &* UInt64(bound)) >> 32)
    }
}
