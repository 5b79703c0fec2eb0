/// The authoritative, deterministic simulation of one match, driven one fixed tick at a time.
///
/// Pure code: no clock, no I/O, no global state. A match actor enqueues client inputs as they
/// arrive and calls ``step()`` at ``SimulationConfiguration/tickRate``; the same configuration
/// and the same inputs always produce the same state (see ``stateHash``), because every
/// quantity is an integer and players are always processed in id order.
public struct MatchSimulation: Sendable {
    public let configuration: SimulationConfiguration
    /// Players by id: `players[i].id == i`.
    public internal(set) var players: [PlayerState]
    /// Ticks simulated so far.
    public internal(set) var tick: UInt32 = 0
    /// Set once the match is decided; ``step()`` does nothing afterwards.
    public internal(set) var outcome: MatchOutcome?
    /// Inputs dropped because a player sent more than ``SimulationConfiguration/maxInputsPerTick`` in one tick.
    public internal(set) var droppedInputs: Int = 0
    /// What happened during the last tick.
    public internal(set) var events: [SimulationEvent] = []

    var queues: [[PlayerInput]]
    var grid: SpatialGrid
    var pendingDamage: [Int32]
    var lastHitter: [Int32]
    var firing: [Bool]

    /// Creates a match with `configuration.maxPlayers` players spawned by the seeded PRNG.
    public init(configuration: SimulationConfiguration = SimulationConfiguration()) {
        self.configuration = configuration
        var random = SplitMix64(seed: configuration.seed)
        let radius = configuration.playerRadius * FixedPoint.one
        let spanX = UInt32(configuration.arenaWidth * FixedPoint.one - 2 * radius)
        let spanY = UInt32(configuration.arenaHeight * FixedPoint.one - 2 * radius)
        self.players = (0..<configuration.maxPlayers).map { index in
            PlayerState(
                id: MatchPlayerID(index),
                x: radius + Int32(random.next(below: spanX)),
                y: radius + Int32(random.next(below: spanY)),
                aim: UInt16(truncatingIfNeeded: random.next()),
                health: configuration.maxHealth,
                ammo: configuration.magazineSize
            )
        }
        let count = configuration.maxPlayers
        self.queues = Array(repeating: [], count: count)
        self.grid = SpatialGrid(width: configuration.arenaWidth, height: configuration.arenaHeight, cellSize: configuration.cellSize)
        self.pendingDamage = Array(repeating: 0, count: count)
        self.lastHitter = Array(repeating: -1, count: count)
        self.firing = Array(repeating: false, count: count)
        self.grid.rebuild(self.players)
    }

    /// Queues an input for the next tick. Inputs for unknown or eliminated players are ignored.
    public mutating func enqueue(_ input: PlayerInput, for player: MatchPlayerID) {
        let index = Int(player)
        guard index < self.players.count, self.players[index].isAlive else { return }
        self.queues[index].append(input)
    }

    /// Moves a player to a position given in world units (scripted spawns, tests); clamped to the arena.
    public mutating func place(_ player: MatchPlayerID, x: Int32, y: Int32, aim: UInt16) {
        let index = Int(player)
        self.players[index].x = x * FixedPoint.one
        self.players[index].y = y * FixedPoint.one
        self.players[index].aim = aim
        self.clampToArena(index)
        self.grid.rebuild(self.players)
    }

    /// Players still alive.
    public var aliveCount: Int { self.players.lazy.filter(\.isAlive).count }

    /// The spatial grid as of the end of the last tick (used for areas of interest).
    var currentGrid: SpatialGrid { self.grid }

    /// Advances the match by one tick: inputs, movement, collisions, weapons, eliminations, end conditions.
    public mutating func step() {
        guard self.outcome == nil else { return }
        self.events.removeAll(keepingCapacity: true)
        self.tick &+= 1
        self.applyInputs()
        self.move()
        self.grid.rebuild(self.players)
        self.resolveCollisions()
        self.grid.rebuild(self.players)
        self.resolveWeapons()
        self.checkEnd()
    }

    private mutating func applyInputs() {
        let bound = self.configuration.maxInputsPerTick
        for index in self.players.indices {
            self.firing[index] = false
            guard !self.queues[index].isEmpty else { continue }
            let queue = self.queues[index]
            self.queues[index].removeAll(keepingCapacity: true)
            if queue.count > bound { self.droppedInputs += queue.count - bound }
            guard self.players[index].isAlive else { continue }
            var reload = false
            for input in queue.prefix(bound) {
                self.players[index].moveX = Int32(max(-127, input.moveX))
                self.players[index].moveY = Int32(max(-127, input.moveY))
                self.players[index].aim = input.aim
                self.players[index].lastInputSequence = input.sequence
                self.firing[index] = self.firing[index] || input.fire
                reload = reload || input.reload
            }
            let magazine = self.configuration.magazineSize
            if reload, self.players[index].reloadTicksLeft == 0, self.players[index].ammo < magazine {
                self.players[index].reloadTicksLeft = self.configuration.reloadTicks
            }
        }
    }

    private mutating func move() {
        let rate = Int64(self.configuration.tickRate)
        let speed = Int64(self.configuration.maxSpeed) * Int64(FixedPoint.one)
        for index in self.players.indices where self.players[index].isAlive {
            var mx = Int64(self.players[index].moveX)
            var my = Int64(self.players[index].moveY)
            guard mx != 0 || my != 0 else { continue }
            // Speed limit: the intent vector's length is capped at 127 (full speed).
            let lengthSquared = mx * mx + my * my
            if lengthSquared > 127 * 127 {
                let length = FixedPoint.squareRoot(lengthSquared)
                mx = mx * 127 / length
                my = my * 127 / length
            }
            self.players[index].x += Int32(speed * mx / (127 * rate))
            self.players[index].y += Int32(speed * my / (127 * rate))
            self.clampToArena(index)
        }
    }

    mutating func clampToArena(_ index: Int) {
        let radius = self.configuration.playerRadius * FixedPoint.one
        let maxX = self.configuration.arenaWidth * FixedPoint.one - radius
        let maxY = self.configuration.arenaHeight * FixedPoint.one - radius
        self.players[index].x = min(maxX, max(radius, self.players[index].x))
        self.players[index].y = min(maxY, max(radius, self.players[index].y))
    }
}

/// Something that happened during a tick.
public enum SimulationEvent: Sendable, Hashable {
    case shot(shooter: MatchPlayerID)
    case hit(shooter: MatchPlayerID, target: MatchPlayerID)
    case eliminated(target: MatchPlayerID, by: MatchPlayerID?)
}
