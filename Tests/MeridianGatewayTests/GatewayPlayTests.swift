import Foundation
import MeridianClock
import MeridianCluster
import MeridianGame
import MeridianGateway
import MeridianMatchmaking
import MeridianRegion
import MeridianSimulation
import MeridianTestSupport
import MeridianTopology
import MeridianWire
import SwiftProtobuf
import MeridianTestScope
import Testing

@Suite("Gateway: playing matches", .serialized)
struct GatewayPlayTests {
    /// Queues `client` in eu-west (as a client measuring eu-west near, us-east far) with request `id`.
    static func queueInEUWest(_ client: RawClient, id: UInt64) async throws {
        try await client.send(RawClient.message(id) {
            $0.queue.region = "eu-west"
            $0.queue.rttMs = ["eu-west": 5, "us-east": 50]
        })
    }

    /// Two clients on gateways of different regions queue in eu-west, get the match event,
    /// deltas they apply and acknowledge (inputs move the avatar), then each their result and a
    /// profile push with the reward — once. The gateways never poll a player's home: the
    /// clients learn of their match, and its end, only because their homes push it.
    ///
    /// On a stepped clock: the matchmaker's pass, the lobby, the countdown and every tick happen
    /// when the test moves time, so the match cannot run out of time before the test has read
    /// its 40 deltas however slowly the machine runs (it did under AddressSanitizer, on the
    /// wall clock).
    @Test func twoClientsPlayAMatchThroughTheirGateways() async throws {
        let clock = ManualClock()
        let rules = GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2, timeLimitSeconds: 2)
        let tickInterval = Duration.seconds(1) / rules.tickRate
        try await GameTestCluster.with(rules: rules, gateways: true, options: .init(clock: clock)) { cluster in
            let eu = try await RawClient.connect(try #require(cluster.node("eu-west-1")?.gateway?.address))
            let us = try await RawClient.connect(try #require(cluster.node("us-east-2")?.gateway?.address))
            let a = UUID()
            let b = UUID()
            _ = try await eu.logIn(a)
            _ = try await us.logIn(b)
            for client in [eu, us] {
                try await Self.queueInEUWest(client, id: 10)
                let statusFound = try await client.next(where: { $0.requestID == 10 })
                let status = try #require(statusFound)
                #expect(status.queueStatus.queued, "\(status)")
            }
            // Both tickets are in the pool: the matchmaker's next pass forms the match.
            clock.advance(by: .milliseconds(100))
            let assignedFound = try await eu.next(where: { $0.matchEvent.phase == "assigned" }, timeout: .seconds(60))
            let assigned = try #require(assignedFound)
            #expect(assigned.matchEvent.region == "eu-west")
            // The match armed its lobby timer when it started, before anyone was assigned.
            clock.advance(by: rules.lobbyWait)
            let countdown = try await eu.next(where: { $0.matchEvent.phase == "countdown" }, timeout: .seconds(60))
            try #require(countdown != nil)
            clock.advance(by: rules.countdown)
            let active = try await eu.next(where: { $0.matchEvent.phase == "active" }, timeout: .seconds(60))
            try #require(active != nil)

            // Deltas, one per tick the clock is stepped: apply, steer right acknowledging the
            // snapshot with the input (the first half of the way) or on its own (the second);
            // the own avatar moves, and the gateway encodes deltas against the acknowledged
            // snapshots either way.
            var receiver = SnapshotReceiver()
            var firstX: Int32?
            var lastX: Int32?
            var sequence: UInt32 = 0
            var deltas = 0
            var rebased = (withInputs: 0, alone: 0)
            var awaitingDelta = false
            var euResult: Meridian_Client_V1_ServerMessage?
            // Until the match ended for eu: 40 deltas read and acknowledged, then the rest of the
            // time limit stepped through.
            while euResult == nil {
                if !awaitingDelta {
                    clock.advance(by: tickInterval)
                    awaitingDelta = true
                }
                guard let message = try await eu.next(timeout: .seconds(60)) else { break }
                if case .result? = message.body { euResult = message }
                guard case .delta(let delta)? = message.body else { continue }
                awaitingDelta = false
                guard deltas < 40 else { continue }
                deltas += 1
                let acksWithInputs = deltas <= 20
                if try SnapshotCodec.header(of: Array(delta.packet)).baseline != nil {
                    if acksWithInputs { rebased.withInputs += 1 } else { rebased.alone += 1 }
                }
                guard let tick = try receiver.receive(Array(delta.packet)) else { continue }
                let me = receiver.latest?.entities.first { UInt32($0.id) == delta.entity }
                if firstX == nil { firstX = me?.x }
                lastX = me?.x ?? lastX
                sequence += 1
                try await eu.send(RawClient.message {
                    $0.inputs.inputs = [.with { [sequence] in $0.sequence = sequence; $0.moveX = 127 }]
                    if acksWithInputs { $0.inputs.ackTick = tick }
                })
                if !acksWithInputs { try await eu.send(RawClient.message { $0.ack.tick = tick }) }
            }
            #expect(deltas == 40)
            #expect((lastX ?? 0) > (firstX ?? 0), "the avatar moved right: \(String(describing: firstX)) → \(String(describing: lastX))")
            #expect(rebased.withInputs > 0 && rebased.alone > 0, "deltas against acknowledged snapshots: \(rebased)")

            for client in [eu, us] {
                let resultFound = client === eu ? euResult : try await client.next(where: { if case .result? = $0.body { true } else { false } })
                let result = try #require(resultFound)
                #expect(result.result.outcome == "draw" || result.result.outcome == "win" || result.result.outcome == "loss")
                let profileFound = try await client.next(where: { if case .profile? = $0.body { true } else { false } })
                let profile = try #require(profileFound)
                #expect(profile.profile.balances["gold"] ?? 0 >= cluster.rules.playReward)
                #expect(profile.profile.xp > 0)
            }
            await eu.close()
            await us.close()
        }
    }

    /// Three clients of one gateway in one match: the match sends that gateway one feed message
    /// per tick carrying all three players' packets — not one per client, never two for a tick.
    @Test func aGatewayGetsOneFeedMessagePerMatchAndTickForAllItsClients() async throws {
        try await GameTestCluster.with(
            rules: GameTestCluster.fastRules(minPlayers: 3, maxPlayers: 3, timeLimitSeconds: 3), gateways: true
        ) { cluster in
            let gateway = try #require(cluster.node("eu-west-1")?.gateway)
            var clients: [RawClient] = []
            for _ in 0..<3 {
                let client = try await RawClient.connect(gateway.address)
                _ = try await client.logIn(UUID())
                try await Self.queueInEUWest(client, id: 10)
                clients.append(client)
            }
            var matchID: UUID?
            for client in clients {
                let assignedFound = try await client.next(where: { $0.matchEvent.phase == "assigned" })
                let assigned = try #require(assignedFound)
                matchID = UUID(uuidString: assigned.matchEvent.matchID)
            }
            let match = try #require(matchID)
            for client in clients {
                var deltas = 0
                while deltas < 20, let message = try await client.next(timeout: .seconds(10)) {
                    if case .delta? = message.body { deltas += 1 }
                }
                #expect(deltas == 20)
            }
            let counts = try #require(gateway.feedCounts(of: match))
            #expect(counts.frames >= 20)
            #expect(counts.packets == 3 * counts.frames, "every feed message carries the packets of all three players: \(counts)")
            #expect(counts.repeatedTicks == 0, "one feed message per tick: \(counts)")
            for client in clients { await client.close() }
        }
    }

    /// The gateway follows a player's session by its home's pushes alone: on a clock that
    /// never advances (no timer could fire, no poll could run), a session the home changes —
    /// queued by a party's leader, then the ticket ended — reaches the client as it happens.
    @Test func aSessionChangeReachesTheGatewayWithAClockThatNeverAdvances() async throws {
        let clock = ManualClock()  // never advanced
        try await GameTestCluster.with(gateways: true, options: .init(clock: clock)) { cluster in
            let client = try await RawClient.connect(try #require(cluster.node("us-east-1")?.gateway?.address))
            let player = try await cluster.createAccount(home: "eu-west")
            _ = try await client.logIn(player)
            let home = try cluster.home(of: player, region: "eu-west")

            // What the region's matchmaker does when a party's leader queues this player.
            let ticket = QueueTicket(id: UUID(), members: [.init(player: player, homeRegion: "eu-west")], rttMilliseconds: [:])
            _ = try await home.beginQueue(ticket: ticket, region: "eu-west")
            let queuedFound = try await client.next(where: { if case .queueStatus? = $0.body { true } else { false } })
            let queued = try #require(queuedFound)
            #expect(queued.queueStatus.queued)
            #expect(queued.queueStatus.ticketID == ticket.id.uuidString.lowercased())

            #expect(try await home.endQueue(ticketID: ticket.id))
            let endedFound = try await client.next(where: { if case .queueStatus? = $0.body { true } else { false } })
            let ended = try #require(endedFound)
            #expect(!ended.queueStatus.queued)
            await client.close()
        }
    }

    /// A player homed in us-east plays in eu-west through an eu-west gateway. With us-east cut
    /// off from eu-west (its home unreachable), the player's inputs still reach the match and
    /// come back reflected in its deltas: nothing on the input path waits for the home region.
    @Test func anUnreachableHomeRegionDoesNotHoldUpAClientsInputs() async throws {
        try await GameTestCluster.with(
            rules: GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2, timeLimitSeconds: 60), gateways: true,
            options: .init(emulateLinks: true)
        ) { cluster in
            let gateway = try #require(cluster.node("eu-west-1")?.gateway?.address)
            let traveller = try await RawClient.connect(gateway)
            let local = try await RawClient.connect(gateway)
            _ = try await traveller.logIn(try await cluster.createAccount(home: "us-east"))
            _ = try await local.logIn(try await cluster.createAccount(home: "eu-west"))
            for client in [traveller, local] { try await Self.queueInEUWest(client, id: 10) }
            let firstDelta = try await traveller.next(where: { if case .delta? = $0.body { true } else { false } })
            #expect(firstDelta != nil)

            cluster.partition(Set(cluster.topology.nodes.filter { $0.region == "us-east" }.map(\.id)), true)
            defer { cluster.partition(Set(cluster.topology.nodes.filter { $0.region == "us-east" }.map(\.id)), false) }
            // One input per delta received, as a client at the tick rate sends them.
            var reflected: Meridian_Client_V1_ServerMessage?
            for sequence: UInt32 in 1...5 {
                try await traveller.send(RawClient.message {
                    $0.inputs.inputs = [.with { $0.sequence = sequence; $0.moveX = 127 }]
                })
                reflected = try await traveller.next(where: { $0.delta.lastInput >= sequence })
                guard reflected != nil else { break }
            }
            #expect(reflected != nil, "the inputs came back in a delta while the home region was unreachable")
            await traveller.close()
            await local.close()
        }
    }

    /// A logged-in player's actor stays in memory however idle (its gateway watches it); once
    /// the connection closes, the gateway stops watching and the idle actor is passivated.
    @Test func aPlayersActorStaysWhileConnectedAndGoesAfterTheConnectionCloses() async throws {
        let clock = ManualClock()  // idle time passes when the test says so
        try await GameTestCluster.with(gateways: true, passivatePlayersAfter: .seconds(100), options: .init(clock: clock)) { cluster in
            let client = try await RawClient.connect(try #require(cluster.node("us-east-1")?.gateway?.address))
            // Homed in eu-west, playing from a us-east gateway.
            let player = try await cluster.createAccount(home: "eu-west")
            _ = try await client.logIn(player)
            let homeNode = cluster.homeNode(of: player, region: "eu-west")
            let system = try #require(cluster.node(homeNode)?.system)
            let connected = try cluster.home(of: player, region: "eu-west", via: homeNode)
            clock.advance(by: .seconds(300))
            await system.passivateIdleActors()
            #expect(try cluster.home(of: player, region: "eu-west", via: homeNode) === connected)

            await client.close()
            // The close reaches the home as an unwatch call; until it has, the actor stays.
            try await cluster.eventually("the idle player's actor is passivated after the connection closed") {
                clock.advance(by: .seconds(300))
                await system.passivateIdleActors()
                return try cluster.home(of: player, region: "eu-west", via: homeNode) !== connected
            }
        }
    }

    /// A client drops out of a running match and comes back on another gateway with its token:
    /// the login says "in_match" and deltas flow again (a full snapshot first).
    @Test func reconnectWithTheTokenResumesTheMatch() async throws {
        try await GameTestCluster.with(rules: GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2, timeLimitSeconds: 60), gateways: true) { cluster in
            let first = try await RawClient.connect(try #require(cluster.node("eu-west-1")?.gateway?.address))
            let other = try await RawClient.connect(try #require(cluster.node("eu-west-2")?.gateway?.address))
            let player = UUID()
            let login = try await first.logIn(player)
            _ = try await other.logIn(UUID())
            for client in [first, other] {
                try await client.send(RawClient.message(10) { $0.queue.rttMs = ["eu-west": 5] })
            }
            let assignedFound = try await first.next(where: { $0.matchEvent.phase == "assigned" })
            let assigned = try #require(assignedFound)
            let required1 = try await first.next(where: { if case .delta? = $0.body { true } else { false } })
            _ = try #require(required1)
            await first.close()

            try await withScoped({ try await RawClient.connect(try #require(cluster.node("us-east-1")?.gateway?.address)) }, teardown: { await $0.close(); await other.close() }) { again in
                try await again.send(RawClient.message(1) { $0.hello.protocolVersion = 1 })
                try await again.send(RawClient.message(2) { $0.resume.token = login.token })
                let resumedFound = try await again.next(where: { $0.requestID == 2 })
                let resumed = try #require(resumedFound)
                #expect(resumed.login.session.state == "in_match")
                #expect(resumed.login.session.matchID == assigned.matchEvent.matchID)
                var receiver = SnapshotReceiver()
                let deltaFound = try await again.next(where: { if case .delta? = $0.body { true } else { false } })
                let delta = try #require(deltaFound)
                // The first packet after the resume decodes without any baseline the client never had.
                #expect(try receiver.receive(Array(delta.delta.packet)) != nil)
            }
        }
    }

    /// The node running a match is killed: the players, on gateways elsewhere, get a
    /// `server_lost` result (nobody waits for a result that never comes), their homes free
    /// them, and they queue again and play on the region's other node.
    @Test func aMatchLostWithItsNodeEndsWithServerLostAndThePlayersQueueAgain() async throws {
        try await GameTestCluster.with(rules: GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2, timeLimitSeconds: 60), gateways: true) { cluster in
            try await withScoped({
                [
                    try await RawClient.connect(try #require(cluster.node("us-east-1")?.gateway?.address)),
                    try await RawClient.connect(try #require(cluster.node("us-east-2")?.gateway?.address)),
                ]
            }, teardown: { clients in for client in clients { await client.close() } }) { clients in
                var logins: [Meridian_Client_V1_LoginResult] = []
                for client in clients {
                    logins.append(try await client.logIn(UUID()))
                    try await Self.queueInEUWest(client, id: 10)
                }
                var node = ""
                for client in clients {
                    let assignedFound = try await client.next(where: { $0.matchEvent.phase == "assigned" })
                    let assigned = try #require(assignedFound)
                    node = assigned.matchEvent.node
                    let required2 = try await client.next(where: { if case .delta? = $0.body { true } else { false } })
                    _ = try #require(required2)
                }
                await cluster.kill(node)

                for client in clients {
                    let resultFound = try await client.next(where: { if case .result? = $0.body { true } else { false } }, timeout: .seconds(30))
                    let result = try #require(resultFound)
                    #expect(result.result.outcome == "server_lost")
                }
                // Free again once the homes recorded the loss; then they queue and play on the
                // region's surviving node.
                for login in logins {
                    let home = try cluster.home(of: try #require(UUID(uuidString: login.playerID)), region: login.homeRegion)
                    try await cluster.eventually("the home of \(login.playerID) recorded the loss", timeout: .seconds(30)) {
                        try await home.currentSession() == .idle
                    }
                }
                for client in clients {
                    try await Self.queueInEUWest(client, id: 100)
                    let replyFound = try await client.next(where: { $0.requestID == 100 })
                    let reply = try #require(replyFound)
                    #expect(reply.queueStatus.queued, "\(reply)")
                }
                for client in clients {
                    let assignedFound = try await client.next(where: { $0.matchEvent.phase == "assigned" }, timeout: .seconds(30))
                    let assigned = try #require(assignedFound)
                    #expect(assigned.matchEvent.node != node)
                }
            }
        }
    }
}
