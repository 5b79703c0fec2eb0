import MeridianSimulation
import Testing

@Suite struct MatchSimulationTests {
    @Test(arguments: [30, 60])
    func identicalInputsGiveIdenticalHashesEveryTick(tickRate: Int) {
        var configuration = SimulationConfiguration(tickRate: tickRate, maxPlayers: 100)
        configuration.maxHealth = 100_000  // keep everyone alive for the whole run
        var a = MatchSimulation(configuration: configuration)
        var b = MatchSimulation(configuration: configuration)
        #expect(a.stateHash == b.stateHash)
        var botsA = BotInputs(seed: 7), botsB = BotInputs(seed: 7)
        var hits = 0
        for _ in 0..<1_000 {
            botsA.feed(&a)
            botsB.feed(&b)
            a.step()
            b.step()
            hits += a.events.filter { if case .hit = $0 { true } else { false } }.count
            #expect(a.stateHash == b.stateHash)
            if a.stateHash != b.stateHash { break }
        }
        #expect(a.tick == 1_000)
        #expect(hits > 0, "the run exercises hits, not only movement")
    }

    @Test func aDifferentInputChangesTheHash() {
        var a = MatchSimulation(configuration: smallMatch(players: 10))
        var b = a
        var botsA = BotInputs(seed: 3), botsB = BotInputs(seed: 3)
        for _ in 0..<50 {
            botsA.feed(&a)
            botsB.feed(&b)
            a.step()
            b.step()
        }
        #expect(a.stateHash == b.stateHash)
        a.enqueue(PlayerInput(sequence: 999, moveX: 127), for: 0)
        b.enqueue(PlayerInput(sequence: 999, moveX: -127), for: 0)
        a.step()
        b.step()
        #expect(a.stateHash != b.stateHash)
    }

    @Test func differentSeedsSpawnDifferently() {
        var other = smallMatch(players: 10)
        other.seed = 99
        #expect(MatchSimulation(configuration: smallMatch(players: 10)).stateHash != MatchSimulation(configuration: other).stateHash)
    }

    @Test func shotsEliminateAndLastPlayerStandingEndsTheMatch() {
        // Two players facing each other; only player 0 shoots.
        var simulation = MatchSimulation(configuration: smallMatch(players: 2))
        simulation.place(0, x: 10, y: 10, aim: 0)
        simulation.place(1, x: 20, y: 10, aim: 0x8000)
        var eliminated: [SimulationEvent] = []
        for _ in 0..<200 where simulation.outcome == nil {
            simulation.enqueue(PlayerInput(sequence: simulation.tick, aim: 0, fire: true), for: 0)
            simulation.step()
            eliminated += simulation.events.filter { if case .eliminated = $0 { true } else { false } }
        }
        #expect(eliminated == [.eliminated(target: 1, by: 0)])
        #expect(simulation.players[1].health == 0)
        #expect(simulation.players[0].kills == 1)
        #expect(simulation.outcome == .lastPlayerStanding(winner: 0))
        // 100 health / 25 per hit = 4 shots, fire interval 0.2 s = 6 ticks: the 4th shot lands at tick 19.
        #expect(simulation.tick == 19)
        let frozen = simulation.stateHash
        simulation.step()
        #expect(simulation.stateHash == frozen, "a decided match does not advance")
    }

    @Test func ammoRunsOutAndReloads() {
        var configuration = smallMatch(players: 2)
        configuration.magazineSize = 2
        configuration.maxHealth = 10_000
        var simulation = MatchSimulation(configuration: configuration)
        simulation.place(0, x: 10, y: 10, aim: 0)
        simulation.place(1, x: 40, y: 40, aim: 0)
        var shots = 0
        for _ in 0..<52 {
            simulation.enqueue(PlayerInput(sequence: simulation.tick, aim: 0x4000, fire: true), for: 0)
            simulation.step()
            shots += simulation.events.count { $0 == .shot(shooter: 0) }
            if shots == 2 { #expect(simulation.players[0].ammo == 0) }
        }
        // Two shots, an empty magazine, a 45-tick reload, then a third shot.
        #expect(shots == 3)
        #expect(simulation.players[0].ammo == 1)
    }

    @Test func timeLimitEndsTheMatch() {
        var configuration = smallMatch(players: 3)
        configuration.timeLimit = 2
        var simulation = MatchSimulation(configuration: configuration)
        while simulation.outcome == nil { simulation.step() }
        #expect(simulation.outcome == .timeLimitReached)
        #expect(simulation.tick == 60)
    }

    @Test func extraInputsPerTickAreDroppedAndCounted() {
        var simulation = MatchSimulation(configuration: smallMatch(players: 2))
        for sequence in 1...10 as ClosedRange<UInt32> { simulation.enqueue(PlayerInput(sequence: sequence), for: 0) }
        simulation.step()
        #expect(simulation.droppedInputs == 10 - simulation.configuration.maxInputsPerTick)
        #expect(simulation.players[0].lastInputSequence == UInt32(simulation.configuration.maxInputsPerTick))
    }

    @Test func speedIsLimited() {
        var simulation = MatchSimulation(configuration: smallMatch(players: 1, arena: 200))
        simulation.place(0, x: 100, y: 100, aim: 0)
        // Diagonal full deflection must not be faster than straight movement.
        simulation.enqueue(PlayerInput(moveX: 127, moveY: 127), for: 0)
        let (x0, y0) = (Int64(simulation.players[0].x), Int64(simulation.players[0].y))
        simulation.step()
        let dx = Int64(simulation.players[0].x) - x0, dy = Int64(simulation.players[0].y) - y0
        let perTick = Int64(simulation.configuration.maxSpeed) * 256 / 30
        #expect(dx * dx + dy * dy <= perTick * perTick)
        #expect(dx > 0 && dy > 0)
    }

    @Test func collisionsKeepPlayersApartAndInsideTheArena() {
        // 30 players in a small arena all running toward the same corner.
        var simulation = MatchSimulation(configuration: smallMatch(players: 30, arena: 24))
        for _ in 0..<300 {
            for player in simulation.players { simulation.enqueue(PlayerInput(sequence: simulation.tick, moveX: 127, moveY: 127), for: player.id) }
            simulation.step()
        }
        let radius = Int64(simulation.configuration.playerRadius) * 256
        let edge = Int32(24 * 256)
        var closest = Int64.max
        for a in simulation.players {
            #expect(a.x >= Int32(radius) && a.x <= edge - Int32(radius) && a.y >= Int32(radius) && a.y <= edge - Int32(radius))
            for b in simulation.players where b.id > a.id {
                let dx = Int64(a.x - b.x), dy = Int64(a.y - b.y)
                closest = min(closest, dx * dx + dy * dy)
            }
        }
        // Pushed apart to (nearly) two radii; a crowd against a wall may keep a small overlap.
        #expect(closest >= radius * radius)
    }

    @Test func twoPlayersWalkingIntoEachOtherDoNotOverlap() {
        var simulation = MatchSimulation(configuration: smallMatch(players: 2))
        simulation.place(0, x: 10, y: 20, aim: 0)
        simulation.place(1, x: 30, y: 20, aim: 0)
        for _ in 0..<200 {
            simulation.enqueue(PlayerInput(moveX: 127), for: 0)
            simulation.enqueue(PlayerInput(moveX: -127), for: 1)
            simulation.step()
            let dx = Int64(simulation.players[1].x - simulation.players[0].x)
            #expect(dx >= 2 * 256)
        }
    }
}
