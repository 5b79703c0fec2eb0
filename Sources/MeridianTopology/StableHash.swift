/// A 64-bit hash that is the same on every platform, process and Swift version: FNV-1a over the bytes,
/// then the splitmix64 finaliser to spread FNV's weak low bits.
///
/// Swift's `Hasher` is seeded randomly per process, so it must never decide anything two nodes have to
/// agree on (shard owners above all).
package struct StableHash: Sendable {
    private static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01b3

    private var state = StableHash.offsetBasis

    /// Starts an empty hash.
    package init() {}

    /// Feeds raw bytes.
    package mutating func combine(bytes: some Sequence<UInt8>) {
        for byte in bytes {
            state = (state ^ UInt64(byte)) &* Self.prime
        }
    }

    /// Feeds a fixed-width integer as 8 little-endian bytes.
    package mutating func combine(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) {
            combine(bytes: CollectionOfOne(UInt8(truncatingIfNeeded: value >> UInt64(shift))))
        }
    }

    /// Feeds a string as its UTF-8 bytes preceded by their count, so ("ab", "c") and ("a", "bc") differ.
    package mutating func combine(_ string: String) {
        combine(UInt64(string.utf8.count))
        combine(bytes: string.utf8)
    }

    /// The finished hash.
    package func finalize() -> UInt64 {
        Self.splitmix64(state)
    }

    /// The splitmix64 finaliser (Steele, Lea and Flood): every input bit affects every output bit.
    package static func splitmix64(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
