/// The authoritative state of one player inside ``MatchSimulation``.
public struct PlayerState: Sendable, Hashable {
    public let id: MatchPlayerID
    /// Position in subunits (1/256 world unit).
    public internal(set) var x: Int32
    public internal(set) var y: Int32
    /// Aim in turns (65,536 = 360°).
    public internal(set) var aim: UInt16
    public internal(set) var health: Int32
    public internal(set) var ammo: Int32
    /// Ticks until the reload completes (0: not reloading).
    public internal(set) var reloadTicksLeft: Int32 = 0
    /// Ticks until the weapon can fire again.
    public internal(set) var cooldownTicksLeft: Int32 = 0
    public internal(set) var kills: Int32 = 0
    /// The last input sequence applied.
    public internal(set) var lastInputSequence: UInt32 = 0
    /// Current movement intent.
    var moveX: Int32 = 0
    var moveY: Int32 = 0

    public var isAlive: Bool { self.health > 0 }
}
