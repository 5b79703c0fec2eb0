import Foundation
import MeridianClient
import MeridianSimulation
import MeridianTransport
import MeridianWire
import NIOCore
import NIOPosix
import Synchronization
import MeridianTestScope
import Testing

@Suite("Deltas, latency and region choice")
struct MatchAndRegionTests {
    let group = MultiThreadedEventLoopGroup.singleton

    /// The fake match: a real simulation and replicator; each ack from the client produces the
    /// next tick's packet, so the chain only advances if the client applies and acknowledges.
    final class FakeMatch: Sendable {
        struct State {
            var simulation = MatchSimulation(configuration: SimulationConfiguration(tickRate: 30, maxPlayers: 4))
            var replicator = SnapshotReplicator(clients: 4)
            var lastInput: UInt32 = 0
            var baselines: [UInt32?] = []
        }
        let state = Mutex(State())
        let ticks: UInt32

        init(ticks: UInt32) { self.ticks = ticks }

        func delta(requestID: UInt64 = 0) -> ServerMessage? {
            state.withLock { state -> ServerMessage? in
                guard state.simulation.tick < ticks else { return nil }
                state.simulation.step()
                let packet = state.replicator.packet(for: 1, of: state.simulation)
                state.baselines.append(try? SnapshotCodec.header(of: packet).baseline)
                var delta = Meridian_Client_V1_StateDelta()
                delta.matchID = "m1"
                delta.tick = state.simulation.tick
                delta.entity = 1
                delta.packet = .init(packet)
                delta.lastInput = state.lastInput
                return Reply.message(requestID, .delta(delta))
            }
        }

        func script(_ request: ClientMessage, _ peer: FakeGateway.Peer) {
            if Reply.basics(request, peer) { return }
            switch request.body {
            case .inputs(let batch):
                state.withLock { $0.lastInput = max($0.lastInput, batch.inputs.map(\.sequence).max() ?? 0) }
            case .queue:
                var status = Meridian_Client_V1_QueueStatus()
                status.queued = true
                peer.send(Reply.message(request.requestID, .queueStatus(status)))
                var event = Meridian_Client_V1_MatchEvent()
                event.matchID = "m1"
                event.phase = "active"
                peer.send(Reply.message(0, .matchEvent(event)))
                if let delta = delta() { peer.send(delta) }
            case .ack(let ack):
                state.withLock { $0.replicator.acknowledge(client: 1, tick: ack.tick, now: $0.simulation.tick) }
                if let delta = delta() { peer.send(delta) }
            default: break
            }
        }
    }

    @Test func deltasAreAppliedAndAcknowledgedAutomatically() async throws {
        let match = FakeMatch(ticks: 20)
        try await withScoped({ try await FakeGateway.start(group: group) { request, peer in match.script(request, peer) } }, teardown: { await $0.stop() }) { gateway in
            let latencies = Mutex<[Duration]>([])
            let client = GameClient(group: group, logger: testLogger()) { latency in latencies.withLock { $0.append(latency) } }
            let recorder = EventRecorder(client.events)
            try await client.connect(host: "127.0.0.1", port: gateway.port)
            try await client.hello()
            // Inputs first so that the deltas report them applied.
            let last = try client.sendInputs((0..<10).map { _ in PlayerInput(moveX: 1) })
            #expect(last == 10)
            try await client.queue()

            let reachedEnd = await recorder.first { if case .snapshotApplied(let tick, _) = $0 { tick == 20 } else { false } }
            #expect(reachedEnd != nil, "the ack chain reached tick 20")
            // The ack of tick 20 is sent after the event; wait until it has arrived.
            var acks: [UInt32] = []
            for _ in 0..<200 {
                acks = gateway.receivedBodies().compactMap { body -> UInt32? in if case .ack(let ack) = body { ack.tick } else { nil } }
                if acks.count >= 20 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(acks == Array(1...20))
            let batches = gateway.receivedBodies().compactMap { body -> Int? in if case .inputs(let batch) = body { batch.inputs.count } else { nil } }
            #expect(batches == [8, 2], "at most 8 inputs per batch")
            // Real deltas, not only full snapshots, were applied.
            let value1 = match.state.withLock { $0.baselines.compactMap { $0 }.count }
            #expect(value1 > 10)
            #expect(client.latestSnapshot?.tick == 20)
            #expect(client.ownEntityID == 1)
            let expectedOwn = match.state.withLock { ReplicatedEntity($0.simulation.players[1]) }
            #expect(client.ownEntity == expectedOwn)
            let value2 = await eventually { latencies.withLock { $0.count } == 10 }
            #expect(value2, "one latency per input")
            let value3 = latencies.withLock { $0.allSatisfy { $0 >= .zero && $0 < .seconds(5) } }
            #expect(value3)
            await client.finish()
        }
    }

    @Test func nearestRegionFollowsTheLatencyProfile() async throws {
        // Its own event loop for the gateways and the probes: on the shared loops another suite's
        // burst of work could hold up one region's pings and not another's (seen once: us-east's
        // 4 ms round trips measured above eu-west's 300 ms); on one loop a stall delays every
        // region alike.
        try await withScoped({ MultiThreadedEventLoopGroup(numberOfThreads: 1) }, teardown: { try? await $0.shutdownGracefully() }) { group in
            try await withScoped({
                var gateways: [FakeGateway] = []
                for region in ["eu-west", "us-east", "ap-south"] {
                    gateways.append(try await FakeGateway.start(group: group) { request, peer in _ = Reply.basics(request, peer, region: region) })
                }
                return gateways
            }, teardown: { for gateway in $0 { await gateway.stop() } }) { gateways in
                // The first address is unreachable: the next gateway of the region is used.
                var regions: [String: [String]] = [:]
                for (region, gateway) in zip(["eu-west", "us-east", "ap-south"], gateways) {
                    regions[region] = ["127.0.0.1:1", "127.0.0.1:\(gateway.port)"]
                }
                // Gaps far above scheduling noise on a loaded 2-core box: the choice must not depend on timing luck.
                let profile = LatencyProfile(oneWayDelay: ["eu-west": .milliseconds(150), "us-east": .milliseconds(2), "ap-south": .milliseconds(300)])
                let configuration = GameClient.Configuration(
                    connection: ClientConnectionConfiguration(connectTimeout: .seconds(2)),
                    latencyProfile: profile
                )
                let choice = await GameClient.nearestRegion(from: regions, pings: 5, group: group, configuration: configuration, logger: testLogger())
                let chosen = try #require(choice)
                #expect(chosen.region == "us-east", "\(chosen.rtt)")
                #expect(chosen.gateway == "127.0.0.1:\(gateways[1].port)")
                #expect(Set(chosen.rtt.keys) == ["eu-west", "us-east", "ap-south"])
                let usEast = try #require(chosen.rtt["us-east"])
                let euWest = try #require(chosen.rtt["eu-west"])
                let apSouth = try #require(chosen.rtt["ap-south"])
                // Each round trip includes twice the simulated one-way delay (no upper bounds: tests never assert on speed).
                #expect(usEast >= .milliseconds(4))
                #expect(euWest >= .milliseconds(300))
                #expect(apSouth >= .milliseconds(600))
            }
        }
    }

    @Test func delayAppliesFromWelcomeWhenTheRegionIsUnknown() async throws {
        try await withScoped({ try await FakeGateway.start(group: group) { request, peer in _ = Reply.basics(request, peer, region: "ap-south") } }, teardown: { await $0.stop() }) { gateway in
            let profile = LatencyProfile(oneWayDelay: ["ap-south": .milliseconds(30)])
            let client = GameClient(group: group, configuration: GameClient.Configuration(latencyProfile: profile), logger: testLogger())
            try await client.connect(host: "127.0.0.1", port: gateway.port)
            try await client.hello()
            #expect(client.gatewayRegion == "ap-south")
            let rtt = try await client.ping()
            #expect(rtt >= .milliseconds(60))
            await client.finish()
        }
    }

    /// A region whose only gateway failed once (a connect refused in a burst) is measured again,
    /// not dropped in favour of a farther region.
    @Test func aRegionThatFailedOnceIsMeasuredAgain() async {
        let attempts = Mutex<[String: Int]>([:])
        let choice = await GameClient.nearestRegion(from: ["eu-west": ["127.0.0.1:1"], "us-east": ["127.0.0.1:2"]], pings: 1) { region, _, _ in
            let attempt = attempts.withLock { attempts -> Int in
                attempts[region, default: 0] += 1
                return attempts[region]!
            }
            if region == "eu-west", attempt == 1 { throw MeridianClientError(.connectFailed, "refused once") }
            return [region == "eu-west" ? .milliseconds(5) : .milliseconds(80)]
        }
        #expect(choice?.region == "eu-west")
        let value4 = attempts.withLock { $0 }
        #expect(value4 == ["eu-west": 2, "us-east": 1])
    }

    /// A caller that gives up (its task cancelled) during a measurement gets its answer at once:
    /// no further gateway is tried.
    @Test func aCancelledMeasurementTriesNoFurtherGateway() async {
        let attempts = Mutex(0)
        let choice = await GameClient.nearestRegion(from: ["eu-west": ["127.0.0.1:1", "127.0.0.1:2"]], pings: 1) { _, _, _ in
            attempts.withLock { $0 += 1 }
            withUnsafeCurrentTask { $0?.cancel() }  // the caller gives up during this attempt
            throw MeridianClientError(.timeout, "no answer")
        }
        #expect(choice == nil)
        let tried = attempts.withLock { $0 }
        #expect(tried == 1)
    }

    @Test func nearestRegionIsNilWhenNothingAnswers() async {
        let choice = await GameClient.nearestRegion(from: ["eu-west": ["127.0.0.1:1"]], pings: 1) { _, _, _ in
            throw MeridianClientError(.connectFailed, "unreachable")
        }
        #expect(choice == nil)
    }
}
