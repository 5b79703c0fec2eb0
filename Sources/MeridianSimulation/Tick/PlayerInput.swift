/// One input from a client for one tick.
public struct PlayerInput: Sendable, Hashable {
    /// The client's input counter; echoed in snapshots so clients can reconcile.
    public var sequence: UInt32
    /// Desired movement, each axis in -127...127; its length is capped to 127 (full speed).
    public var moveX: Int8
    public var moveY: Int8
    /// Aim direction in turns (65,536 = 360°, 0 = +x, counter-clockwise).
    public var aim: UInt16
    /// Fire the weapon this tick.
    public var fire: Bool
    /// Start reloading.
    public var reload: Bool

    public init(sequence: UInt32 = 0, moveX: Int8 = 0, moveY: Int8 = 0, aim: UInt16 = 0, fire: Bool = false, reload: Bool = false) {
        self.sequence = sequence
        self.moveX = moveX
        self.moveY = moveY
        self.aim = aim
        self.fire = fire
        self.reload = reload
    }
}
