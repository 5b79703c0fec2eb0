/// The rules of one simulated match. Distances are world units unless the name says subunits.
public struct SimulationConfiguration: Sendable, Hashable {
    /// Ticks per second (30 by default; 60 supported).
    public var tickRate: Int = 30
    /// Players in the match (at most 100 supported by the default grid sizing, more works).
    public var maxPlayers: Int = 100
    /// Arena width and height in world units; the arena spans `0..<size`.
    public var arenaWidth: Int32 = 256
    public var arenaHeight: Int32 = 256
    /// Player collision radius in world units.
    public var playerRadius: Int32 = 1
    /// Maximum speed in world units per second.
    public var maxSpeed: Int32 = 8
    /// Uniform spatial grid cell size in world units.
    public var cellSize: Int32 = 16
    /// Inputs applied per player per tick; extra queued inputs are dropped and counted.
    public var maxInputsPerTick: Int = 4
    /// Health of a fresh player.
    public var maxHealth: Int32 = 100
    /// Damage per hit.
    public var damage: Int32 = 25
    /// Hitscan range in world units.
    public var weaponRange: Int32 = 40
    /// Rounds per magazine.
    public var magazineSize: Int32 = 12
    /// Seconds between shots (rounded to ticks).
    public var fireInterval: Double = 0.2
    /// Seconds to reload (rounded to ticks).
    public var reloadTime: Double = 1.5
    /// Match time limit in seconds.
    public var timeLimit: Int = 300
    /// Seed of the spawn PRNG.
    public var seed: UInt64 = 0x4D45_5249_4449_414E

    public init() {}

    /// Convenience: the default rules at a tick rate.
    public init(tickRate: Int, maxPlayers: Int = 100) {
        self.tickRate = tickRate
        self.maxPlayers = maxPlayers
    }

    var fireIntervalTicks: Int32 { Int32(max(1, (self.fireInterval * Double(self.tickRate)).rounded())) }
    var reloadTicks: Int32 { Int32(max(1, (self.reloadTime * Double(self.tickRate)).rounded())) }
    var timeLimitTicks: UInt32 { UInt32(self.timeLimit * self.tickRate) }
}
