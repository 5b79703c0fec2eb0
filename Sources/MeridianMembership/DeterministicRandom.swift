/// SplitMix64: a tiny, well-mixed PRNG with a 64-bit state.
///
/// Probe order and helper choice must be random (SWIM's guarantees are probabilistic) yet
/// reproducible, so the machine owns its generator and is seeded by its creator instead of
/// reading the system's entropy. Shuffling and bounded picks are implemented here rather
/// than with the standard library's `shuffle(using:)`, whose algorithm may change between
/// Swift releases and would silently change test outcomes.
struct DeterministicRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound`; the modulo bias is negligible for membership-sized bounds.
    mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        return Int(next() % UInt64(bound))
    }

    /// Fisher–Yates.
    mutating func shuffle<Element>(_ array: inout [Element]) {
        guard array.count > 1 else { return }
        for index in stride(from: array.count - 1, to: 0, by: -1) {
            let other = below(index + 1)
            if other != index { array.swapAt(index, other) }
        }
    }
}
