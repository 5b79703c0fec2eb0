/// One player as a client sees it: the authoritative state quantised for the wire.
public struct ReplicatedEntity: Sendable, Hashable {
    public var id: MatchPlayerID
    /// Position in 1/16 world unit.
    public var x: Int32
    public var y: Int32
    /// Aim in 1/1,024 turn (10 bits).
    public var aim: UInt16
    public var health: UInt8
    public var ammo: UInt8

    public init(id: MatchPlayerID, x: Int32, y: Int32, aim: UInt16, health: UInt8, ammo: UInt8) {
        self.id = id
        self.x = x
        self.y = y
        self.aim = aim
        self.health = health
        self.ammo = ammo
    }

    /// Quantises an authoritative player: positions to 1/16 unit, aim to 10 bits.
    public init(_ player: PlayerState) {
        // Subunits are 1/256 unit: drop 4 bits, rounding to nearest.
        self.init(
            id: player.id,
            x: (player.x + 8) >> 4,
            y: (player.y + 8) >> 4,
            aim: UInt16((UInt32(player.aim) + 32) >> 6) & 0x3FF,
            health: UInt8(clamping: player.health),
            ammo: UInt8(clamping: player.ammo)
        )
    }
}

/// Everything one client sees at one tick: the entities in its area of interest, by id.
public struct ReplicatedSnapshot: Sendable, Hashable {
    public var tick: UInt32
    /// Sorted by id.
    public var entities: [ReplicatedEntity]

    public init(tick: UInt32, entities: [ReplicatedEntity]) {
        self.tick = tick
        self.entities = entities
    }
}
