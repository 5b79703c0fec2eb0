import MeridianSimulation

/// Deterministic pseudo-random bot inputs for tests.
struct BotInputs {
    var random: SplitMix64

    init(seed: UInt64) { self.random = SplitMix64(seed: seed) }

    mutating func next(tick: UInt32) -> PlayerInput {
        let r = self.random.next()
        return PlayerInput(
            sequence: tick,
            moveX: Int8(truncatingIfNeeded: r & 0xFF), moveY: Int8(truncatingIfNeeded: (r >> 8) & 0xFF),
            aim: UInt16(truncatingIfNeeded: r >> 16), fire: (r >> 40) & 3 == 0, reload: (r >> 44) & 63 == 0
        )
    }

    /// Queues one input per live player.
    mutating func feed(_ simulation: inout MatchSimulation) {
        for player in simulation.players where player.isAlive {
            simulation.enqueue(self.next(tick: simulation.tick), for: player.id)
        }
    }
}

/// A small configuration: `players` players in a small arena so they meet quickly.
func smallMatch(players: Int, arena: Int32 = 48, tickRate: Int = 30) -> SimulationConfiguration {
    var configuration = SimulationConfiguration(tickRate: tickRate, maxPlayers: players)
    configuration.arenaWidth = arena
    configuration.arenaHeight = arena
    return configuration
}
