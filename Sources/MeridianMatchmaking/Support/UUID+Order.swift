import Foundation

extension UUID {
    /// A total order on ids (their bytes, big-endian), for deterministic tie-breaks.
    static func matchmakingPrecedes(_ a: UUID, _ b: UUID) -> Bool {
        let (ah, al) = a.matchmakingWords
        let (bh, bl) = b.matchmakingWords
        return ah != bh ? ah < bh : al < bl
    }

    /// The id as two big-endian words.
    var matchmakingWords: (UInt64, UInt64) {
        let u = self.uuid
        let high = UInt64(u.0) << 56 | UInt64(u.1) << 48 | UInt64(u.2) << 40 | UInt64(u.3) << 32
            | UInt64(u.4) << 24 | UInt64(u.5) << 16 | UInt64(u.6) << 8 | UInt64(u.7)
        let low = UInt64(u.8) << 56 | UInt64(u.9) << 48 | UInt64(u.10) << 40 | UInt64(u.11) << 32
            | UInt64(u.12) << 24 | UInt64(u.13) << 16 | UInt64(u.14) << 8 | UInt64(u.15)
        return (high, low)
    }
}
