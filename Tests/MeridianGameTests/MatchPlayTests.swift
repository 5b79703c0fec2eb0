import Distributed
import Foundation
import MeridianCluster
import MeridianGame
import MeridianRegion
import MeridianSimulation
import MeridianTestSupport
import Synchronization
import Testing

@Suite("Playing a match over the cluster", .serialized)
struct MatchPlayTests {
    /// Inputs sent from another region (batched per gateway, with a stranger's that is skipped)
    /// move the player's avatar; every tick the subscriber gets
    /// one packet per player, deltas against the acknowledged snapshot (after a first full one);
    /// a disconnect holds the seat and a reconnect takes it back.
    @Test func inputsMoveTheAvatarAndDeltasFollowAcks() async throws {
        try await GameTestCluster.with(rules: GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2, timeLimitSeconds: 8)) { cluster in
            let (players, assignment) = try await cluster.matchSoloPlayers(homes: ["eu-west", "us-east"], via: "us-east-1")
            let (a, b) = (players[0], players[1])
            // The "gateway" of this test lives on a us-east node.
            let gateway = cluster.node("us-east-1")!
            let (frames, framesIn) = AsyncStream.makeStream(of: MatchFrame.self)
            let (reliable, reliableIn) = AsyncStream.makeStream(of: MatchFeedEvent.self)
            let subscriber = MatchSubscriber(actorSystem: gateway.system) { event in
                if case .frame(let frame) = event { framesIn.yield(frame) } else { reliableIn.yield(event) }
            }
            let match = try gateway.game.match(assignment)
            try await match.subscribe(player: a, subscriber: subscriber.id)
            try await match.subscribe(player: b, subscriber: subscriber.id)

            try await cluster.eventually("the match is active") { try await match.status().phase == "active" }
            try await match.disconnect(player: b)
            #expect(try await match.status().connected == 1)
            try await match.reconnect(player: b)
            #expect(try await match.status().connected == 2)

            var receivers = [a: SnapshotReceiver(), b: SnapshotReceiver()]
            var kinds: [Bool] = []  // per packet of a: is it a delta (has a baseline)?
            var firstX: Int32?
            var lastX: Int32?
            var sequence: UInt32 = 0
            var iterator = frames.makeAsyncIterator()
            for _ in 0..<40 {
                guard let frame = await iterator.next() else { break }
                // What a gateway sends per round trip: every player's ack and inputs in one call.
                var updates: [UUID: ClientUpdate] = [:]
                for (player, packet) in frame.packets {
                    guard let tick = try receivers[player]!.receive(packet.bytes) else { continue }
                    updates[player, default: ClientUpdate(player: player)].acknowledged = tick
                    if player == a {
                        kinds.append(try SnapshotCodec.header(of: packet.bytes).baseline != nil)
                        let me = receivers[a]!.latest?.entities.first { $0.id == packet.entity }
                        if firstX == nil { firstX = me?.x }
                        lastX = me?.x ?? lastX
                    }
                }
                sequence += 1
                updates[a, default: ClientUpdate(player: a)].inputs = [InputMessage(PlayerInput(sequence: sequence, moveX: 127))]
                // A player who is not seated here is skipped; the others' updates still count.
                let stranger = ClientUpdate(player: UUID(), inputs: [InputMessage(PlayerInput(sequence: 1, moveX: -127))], acknowledged: 1)
                try await match.clientUpdates(Array(updates.values) + [stranger])
            }
            let start = try #require(firstX)
            let end = try #require(lastX)
            #expect(end > start, "moving right: x went from \(start) to \(end)")
            // The first packet is a full snapshot; once acks flow, packets are deltas against them.
            #expect(kinds.first == false)
            // (A late ack — a loaded machine — may bring a full snapshot again; how many is timing,
            // so the check is only that deltas do follow.)
            #expect(kinds.dropFirst().contains(true), "deltas after the first acks: \(kinds)")

            // Reliable events: the phases seen so far, then (when the match is closed) every
            // subscribed player's result and the end.
            try await match.close()
            var phases: [String] = []
            var resultsFor: Set<UUID> = []
            for await event in reliable {
                switch event {
                case .phase(_, let phase, _): phases.append(phase)
                case .results(_, let results): resultsFor.formUnion(results.map(\.player))
                case .ended: reliableIn.finish()
                case .frame: break
                }
            }
            #expect(phases.contains("active"))
            #expect(phases.last == "closed")
            #expect(resultsFor == [a, b])
        }
    }

    /// The frame codec keeps every packet and refuses an entity id out of range.
    @Test func matchFrameRoundTrip() throws {
        let frame = MatchFrame(
            matchID: UUID(), tick: 77, phase: "active",
            packets: [UUID(): PlayerPacket(entity: 3, bytes: [1, 2, 3]), UUID(): PlayerPacket(entity: 99, bytes: [])]
        )
        var writer = WireWriter()
        try frame.encode(to: &writer)
        var reader = WireReader(bytes: writer.bytes)
        #expect(try MatchFrame(from: &reader) == frame)
        let input = InputMessage(PlayerInput(sequence: 9, moveX: -127, moveY: 5, aim: 40000, fire: true, reload: false))
        var inputWriter = WireWriter()
        try input.encode(to: &inputWriter)
        var inputReader = WireReader(bytes: inputWriter.bytes)
        #expect(try InputMessage(from: &inputReader) == input)
    }
}
