extension MatchSimulation {
    /// A stable 64-bit FNV-1a hash of the whole authoritative state (tick, outcome, every
    /// player's fields). Equal hashes on two machines mean they simulated the same match.
    public var stateHash: UInt64 {
        var hasher = FNV1a()
        hasher.mix(UInt64(self.tick))
        switch self.outcome {
        case nil: hasher.mix(0)
        case .timeLimitReached: hasher.mix(1)
        case .lastPlayerStanding(let winner): hasher.mix(2); hasher.mix(UInt64(winner ?? .max))
        }
        for player in self.players {
            hasher.mix(UInt64(player.id))
            hasher.mix(UInt64(UInt32(bitPattern: player.x)))
            hasher.mix(UInt64(UInt32(bitPattern: player.y)))
            hasher.mix(UInt64(player.aim))
            hasher.mix(UInt64(UInt32(bitPattern: player.health)))
            hasher.mix(UInt64(UInt32(bitPattern: player.ammo)))
            hasher.mix(UInt64(UInt32(bitPattern: player.reloadTicksLeft)))
            hasher.mix(UInt64(UInt32(bitPattern: player.cooldownTicksLeft)))
            hasher.mix(UInt64(UInt32(bitPattern: player.kills)))
            hasher.mix(UInt64(UInt32(bitPattern: player.moveX)))
            hasher.mix(UInt64(UInt32(bitPattern: player.moveY)))
            hasher.mix(UInt64(player.lastInputSequence))
        }
        return hasher.value
    }
}

/// 64-bit FNV-1a over little-endian bytes: stable across runs and platforms (unlike `Hasher`).
struct FNV1a {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func mix(_ word: UInt64) {
        var w = word
        for _ in 0..<8 {
            self.value ^= w & 0xFF
            self.value &*= 0x0000_0100_0000_01B3
            w >>= 8
        }
    }
}
