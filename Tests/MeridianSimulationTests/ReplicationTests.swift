import MeridianSimulation
import Testing

@Suite struct ReplicationTests {
    /// A server match plus one receiver per client; `deliver` decides which packets and acks get through.
    @Test(arguments: [UInt64(1), 2, 3])
    func deltasConvergeDespiteDroppedAcksAndPackets(seed: UInt64) throws {
        var configuration = smallMatch(players: 20, arena: 96)
        configuration.maxHealth = 100_000
        var simulation = MatchSimulation(configuration: configuration)
        var replicator = SnapshotReplicator(clients: 20, configuration: ReplicationConfiguration(interestRadiusCells: 1, fullSnapshotAfterTicks: 10))
        var receivers = Array(repeating: SnapshotReceiver(), count: 20)
        var bots = BotInputs(seed: seed)
        var network = SplitMix64(seed: seed &* 31)
        var deltas = 0, fulls = 0
        for _ in 0..<400 {
            bots.feed(&simulation)
            simulation.step()
            let now = simulation.tick
            for client in 0..<20 {
                let id = MatchPlayerID(client)
                let packet = replicator.packet(for: id, of: simulation)
                if try SnapshotCodec.header(of: packet).baseline == nil { fulls += 1 } else { deltas += 1 }
                // 20% of packets lost; 50% of acks lost.
                guard network.next(below: 10) >= 2 else { continue }
                guard let ack = try receivers[client].receive(packet) else { continue }
                // What the client holds now is exactly the server's quantised view of this tick.
                #expect(receivers[client].latest == replicator.view(for: id, of: simulation))
                if network.next(below: 2) == 0 { replicator.acknowledge(client: id, tick: ack, now: now) }
            }
        }
        #expect(deltas > fulls, "most packets are deltas")
        #expect(fulls >= 20, "every client starts with a full snapshot")
    }

    @Test func onlyEntitiesInTheAreaOfInterestAreSent() {
        var simulation = MatchSimulation(configuration: smallMatch(players: 4, arena: 256))
        // Cells are 16 units; radius 1 cell around player 0 at (40, 40) covers cells 1...3 = 16..<64.
        simulation.place(0, x: 40, y: 40, aim: 0)
        simulation.place(1, x: 60, y: 20, aim: 0)  // neighbouring cell: visible
        simulation.place(2, x: 70, y: 40, aim: 0)  // two cells away: not visible
        simulation.place(3, x: 200, y: 200, aim: 0)
        let replicator = SnapshotReplicator(clients: 4, configuration: ReplicationConfiguration(interestRadiusCells: 1))
        #expect(replicator.view(for: 0, of: simulation).entities.map(\.id) == [0, 1])
        #expect(replicator.view(for: 3, of: simulation).entities.map(\.id) == [3])
        let wide = SnapshotReplicator(clients: 4, configuration: ReplicationConfiguration(interestRadiusCells: 2))
        #expect(wide.view(for: 0, of: simulation).entities.map(\.id) == [0, 1, 2])
    }

    @Test func aClientThatResumedGetsAFullSnapshotAtOnceAndItsOldAcksAreIgnored() throws {
        var simulation = MatchSimulation(configuration: smallMatch(players: 2))
        var replicator = SnapshotReplicator(clients: 2, configuration: ReplicationConfiguration(fullSnapshotAfterTicks: 30))
        var receiver = SnapshotReceiver()
        var lastAcked: UInt32 = 0
        for _ in 0..<3 {
            simulation.step()
            lastAcked = try #require(try receiver.receive(replicator.packet(for: 0, of: simulation)))
            replicator.acknowledge(client: 0, tick: lastAcked, now: simulation.tick)
        }
        simulation.step()
        #expect(try SnapshotCodec.header(of: replicator.packet(for: 0, of: simulation)).baseline == lastAcked, "acknowledged: a delta")
        // The client resumed on a new connection with no baseline; an ack it sent before arrives late.
        replicator.forgetAcknowledgement(client: 0, now: simulation.tick)
        replicator.acknowledge(client: 0, tick: lastAcked, now: simulation.tick)
        simulation.step()
        let resumed = replicator.packet(for: 0, of: simulation)
        #expect(try SnapshotCodec.header(of: resumed).baseline == nil, "a full snapshot right after the resume")
        var fresh = SnapshotReceiver()
        let applied = try #require(try fresh.receive(resumed))
        replicator.acknowledge(client: 0, tick: applied, now: simulation.tick)
        simulation.step()
        #expect(try SnapshotCodec.header(of: replicator.packet(for: 0, of: simulation)).baseline == applied, "deltas again from the new ack")
    }

    @Test func aClientSilentForTheBoundGetsAFullSnapshot() throws {
        var simulation = MatchSimulation(configuration: smallMatch(players: 3))
        var replicator = SnapshotReplicator(clients: 3, configuration: ReplicationConfiguration(fullSnapshotAfterTicks: 5))
        var receiver = SnapshotReceiver()
        simulation.step()
        let first = replicator.packet(for: 0, of: simulation)
        #expect(try SnapshotCodec.header(of: first).baseline == nil, "nothing acknowledged yet: full")
        let acked = try #require(try receiver.receive(first))
        replicator.acknowledge(client: 0, tick: acked, now: simulation.tick)
        for step in 1...7 {
            simulation.step()
            let packet = replicator.packet(for: 0, of: simulation)
            let baseline = try SnapshotCodec.header(of: packet).baseline
            if step <= 5 {
                #expect(baseline == acked, "tick \(simulation.tick): delta against the acknowledged snapshot")
            } else {
                #expect(baseline == nil, "tick \(simulation.tick): silent for more than 5 ticks: full")
            }
            _ = try receiver.receive(packet)
            #expect(receiver.latest == replicator.view(for: 0, of: simulation))
        }
    }

    @Test func quantisedEncodingRoundTripsAndIsCompact() throws {
        let base = ReplicatedSnapshot(tick: 10, entities: [
            ReplicatedEntity(id: 1, x: 100, y: 200, aim: 5, health: 100, ammo: 12),
            ReplicatedEntity(id: 4, x: -3, y: 7, aim: 1023, health: 50, ammo: 0),
            ReplicatedEntity(id: 9, x: 4000, y: 4000, aim: 0, health: 1, ammo: 1),
        ])
        let next = ReplicatedSnapshot(tick: 11, entities: [
            ReplicatedEntity(id: 1, x: 101, y: 199, aim: 5, health: 100, ammo: 12),  // moved
            ReplicatedEntity(id: 4, x: -3, y: 7, aim: 1023, health: 50, ammo: 0),  // unchanged
            ReplicatedEntity(id: 7, x: 1, y: 2, aim: 3, health: 4, ammo: 5),  // entered; 9 left
        ])
        let full = SnapshotCodec.encode(next, baseline: nil)
        #expect(try SnapshotCodec.decode(full, baseline: nil) == next)
        let delta = SnapshotCodec.encode(next, baseline: base)
        #expect(try SnapshotCodec.decode(delta, baseline: base) == next)
        #expect(delta.count < full.count)
        #expect(delta.count <= 20)
        #expect(throws: SnapshotDecodingError.self) { try SnapshotCodec.decode(delta, baseline: next) }
        #expect(throws: SnapshotDecodingError.self) { try SnapshotCodec.decode(Array(delta.dropLast()), baseline: base) }
    }

    @Test func quantisationRoundsPositionsAndAim() {
        var simulation = MatchSimulation(configuration: smallMatch(players: 1))
        simulation.place(0, x: 10, y: 20, aim: 0xFFFF)
        let entity = ReplicatedEntity(simulation.players[0])
        #expect(entity.x == 160 && entity.y == 320)
        #expect(entity.aim == 0, "0xFFFF rounds to a full turn, which wraps to 0")
    }
}
