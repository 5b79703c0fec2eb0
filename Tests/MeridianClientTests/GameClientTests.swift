import Foundation
import MeridianClient
import MeridianSimulation
import MeridianWire
import NIOCore
import NIOPosix
import Synchronization
import MeridianTestScope
import Testing

@Suite("GameClient against a fake gateway")
struct GameClientTests {
    let group = MultiThreadedEventLoopGroup.singleton

    @Test func helloLoginPingLocateAreCorrelated() async throws {
        try await withScoped({ try await FakeGateway.start(group: group) { request, peer in
            if Reply.basics(request, peer) { return }
            switch request.body {
            case .devLogin(let login):
                var result = Meridian_Client_V1_LoginResult()
                result.token = "token-\(login.playerID)"
                result.playerID = login.playerID
                result.homeRegion = "eu-west"
                result.expiresAtUnix = 99
                var session = Meridian_Client_V1_SessionState()
                session.state = "idle"
                result.session = session
                peer.send(Reply.message(request.requestID, .login(result)))
            case .locate:
                var regions = Meridian_Client_V1_Regions()
                for (name, port) in [("eu-west", 1), ("us-east", 2)] {
                    var entry = Meridian_Client_V1_RegionGateways()
                    entry.region = name
                    entry.gateways = ["127.0.0.1:\(port)"]
                    regions.regions.append(entry)
                }
                peer.send(Reply.message(request.requestID, .regions(regions)))
            default: break
            }
        } }, teardown: { await $0.stop() }) { gateway in
            let client = GameClient(group: group, logger: testLogger())
            try await client.connect(host: "127.0.0.1", port: gateway.port)
            let welcome = try await client.hello()
            #expect(welcome.region == "eu-west")
            #expect(welcome.node == "eu-west-1")
            #expect(welcome.maxFrameBytes == 65_536)
            let login = try await client.devLogin(playerID: "p1", displayName: "One")
            #expect(login.token == "token-p1")
            #expect(login.session?.state == "idle")
            #expect(client.token == "token-p1")
            let rtt = try await client.ping()
            #expect(rtt > .zero)
            let regions = try await client.locate()
            #expect(regions == ["eu-west": ["127.0.0.1:1"], "us-east": ["127.0.0.1:2"]])

            let bodies = gateway.receivedBodies()
            guard case .hello(let hello) = bodies.first else {
                Issue.record("the first message was not hello")
                return
            }
            #expect(hello.protocolVersion == 1)
            let ids = gateway.box.received.withLock { $0.map(\.requestID) }
            #expect(Set(ids).count == ids.count, "every request has its own id")
            #expect(!ids.contains(0))
            await client.finish()
        }
    }

    @Test func repliesOutOfOrderAreMatchedByRequestID() async throws {
        let held = Mutex<[ClientMessage]>([])
        try await withScoped({ try await FakeGateway.start(group: group) { request, peer in
            guard case .ping = request.body else { return }
            let all = held.withLock { held -> [ClientMessage]? in
                held.append(request)
                return held.count == 3 ? held : nil
            }
            // Answer the three pings in reverse order of arrival.
            for message in (all ?? []).reversed() { peer.send(Reply.pong(message)) }
        } }, teardown: { await $0.stop() }) { gateway in
            let connection = try await MeridianClientConnection.connect(host: "127.0.0.1", port: gateway.port, group: group, logger: testLogger())
            let replies = try await withThrowingTaskGroup(of: (UInt64, UInt64).self) { tasks in
                for stamp in [UInt64(111), 222, 333] {
                    tasks.addTask {
                        var ping = Meridian_Client_V1_Ping()
                        ping.clientTimeUs = stamp
                        let reply = try await connection.request(.ping(ping))
                        return (stamp, reply.pong.clientTimeUs)
                    }
                }
                var replies: [(UInt64, UInt64)] = []
                for try await reply in tasks { replies.append(reply) }
                return replies
            }
            #expect(replies.count == 3)
            for (sent, echoed) in replies { #expect(sent == echoed) }
            await connection.close()
        }
    }

    /// A request made on a connection that has just closed — before its owner heard of the
    /// close — fails with `connectionClosed` instead of waiting forever for a reply.
    @Test func aRequestOnAClosedConnectionFailsAtOnce() async throws {
        try await withScoped({ try await FakeGateway.start(group: group) { request, peer in
            _ = Reply.basics(request, peer)
        } }, teardown: { await $0.stop() }) { gateway in
            let connection = try await MeridianClientConnection.connect(host: "127.0.0.1", port: gateway.port, group: group, logger: testLogger())
            await connection.close()
            var ping = Meridian_Client_V1_Ping()
            ping.clientTimeUs = 1
            // A timeout far beyond the test's patience: only the closed channel can end this.
            let error = await #expect(throws: MeridianClientError.self) {
                _ = try await connection.request(.ping(ping), timeout: .seconds(3600))
            }
            #expect(error?.code == .connectionClosed, "\(String(describing: error))")
        }
    }

    /// A caller that gives up (its task is cancelled) stops waiting for a reply that never
    /// comes at once, not after the request timeout.
    @Test func aCancelledRequestStopsWaitingAtOnce() async throws {
        try await withScoped({ try await FakeGateway.start(group: group) { _, _ in } }, teardown: { await $0.stop() }) { gateway in
            let connection = try await MeridianClientConnection.connect(host: "127.0.0.1", port: gateway.port, group: group, logger: testLogger())
            let waiting = Task { () async -> MeridianClientError? in
                do {
                    // A timeout far beyond the test's patience: only the cancellation can end this.
                    _ = try await connection.request(.queue(Meridian_Client_V1_Queue()), timeout: .seconds(3600))
                    return nil
                } catch let error as MeridianClientError {
                    return error
                } catch {
                    return MeridianClientError(.malformed, "\(error)")
                }
            }
            waiting.cancel()
            let error = await waiting.value
            #expect(error?.code == .cancelled, "\(String(describing: error))")
            await connection.close()
        }
    }

    @Test func pushesReachTheStreamAndTheEvents() async throws {
        try await withScoped({ try await FakeGateway.start(group: group) { request, peer in
            if Reply.basics(request, peer) { return }
            guard case .queue = request.body else { return }
            var status = Meridian_Client_V1_QueueStatus()
            status.ticketID = "t1"
            status.queued = true
            peer.send(Reply.message(request.requestID, .queueStatus(status)))
            var event = Meridian_Client_V1_MatchEvent()
            event.matchID = "m1"
            event.phase = "lobby"
            event.tickRate = 30
            peer.send(Reply.message(0, .matchEvent(event)))
            var result = Meridian_Client_V1_MatchResult()
            result.matchID = "m1"
            result.outcome = "win"
            result.rewards = ["gold": 5]
            peer.send(Reply.message(0, .result(result)))
            var profile = Meridian_Client_V1_Profile()
            profile.playerID = "p1"
            profile.balances = ["gold": 105]
            peer.send(Reply.message(0, .profile(profile)))
        } }, teardown: { await $0.stop() }) { gateway in

            // The raw connection's push stream.
            let connection = try await MeridianClientConnection.connect(host: "127.0.0.1", port: gateway.port, group: group, logger: testLogger())
            let status = try await connection.request(.queue(Meridian_Client_V1_Queue()))
            #expect(status.queueStatus.ticketID == "t1")
            var pushes: [ServerMessage] = []
            for await push in connection.pushes {
                pushes.append(push)
                if pushes.count == 3 { break }
            }
            #expect(pushes.map(\.requestID) == [0, 0, 0])
            #expect(pushes[0].matchEvent.phase == "lobby")
            #expect(pushes[1].result.outcome == "win")
            #expect(pushes[2].profile.balances["gold"] == 105)
            await connection.close()

            // The same pushes as GameClient events.
            let client = GameClient(group: group, logger: testLogger())
            let recorder = EventRecorder(client.events)
            try await client.connect(host: "127.0.0.1", port: gateway.port)
            try await client.hello()
            let queued = try await client.queue(rtt: ["eu-west": .milliseconds(12)])
            #expect(queued.queued)
            let result = await recorder.first { if case .result = $0 { true } else { false } }
            #expect(result == resultValue())
            let events = recorder.storage.events.withLock { $0 }
            guard case .matchEvent(let event) = events.first else {
                Issue.record("expected the match event first, got \(events)")
                return
            }
            #expect(event.matchID == "m1" && event.tickRate == 30)
            #expect(client.matchID == "m1")
            let value1 = await recorder.first { if case .profile(let p) = $0 { p.balances == ["gold": 105] } else { false } }
            #expect(value1 != nil)
            guard case .queue(let sent) = gateway.receivedBodies().last(where: { if case .queue = $0 { true } else { false } }) else {
                Issue.record("queue not received")
                return
            }
            #expect(sent.rttMs == ["eu-west": 12])
            await client.finish()
        }
    }

    /// A playing client acknowledges a snapshot on its next input batch; without an input
    /// within `maxAckDelay` the newest snapshot is acknowledged on its own.
    @Test func acksRideOnInputsOrGoAloneAfterTheDelay() async throws {
        @Sendable func delta(_ tick: UInt32) -> ServerMessage {
            var delta = Meridian_Client_V1_StateDelta()
            delta.matchID = "m1"
            delta.entity = 1
            let snapshot = ReplicatedSnapshot(tick: tick, entities: [ReplicatedEntity(id: 1, x: 0, y: 0, aim: 0, health: 100, ammo: 10)])
            delta.packet = Data(SnapshotCodec.encode(snapshot, baseline: nil))
            return Reply.message(0, .delta(delta))
        }
        /// Answers the queue with deltas 1…3.
        try await withScoped({ try await FakeGateway.start(group: group) { request, peer in
            if Reply.basics(request, peer) { return }
            guard case .queue = request.body else { return }
            var status = Meridian_Client_V1_QueueStatus()
            status.queued = true
            peer.send(Reply.message(request.requestID, .queueStatus(status)))
            for tick: UInt32 in 1...3 { peer.send(delta(tick)) }
        } }, teardown: { await $0.stop() }) { gateway in
            let acks: () -> [String] = {
                gateway.receivedBodies().compactMap { body in
                    switch body {
                    case .inputs(let batch): "inputs+ack \(batch.ackTick)"
                    case .ack(let ack): "ack \(ack.tick)"
                    default: nil
                    }
                }
            }

            // An ack that may wait: the input carries it.
            let playing = GameClient(group: group, configuration: .init(maxAckDelay: .seconds(3600)), logger: testLogger())
            let recorder = EventRecorder(playing.events)
            try await playing.connect(host: "127.0.0.1", port: gateway.port)
            try await playing.hello()
            _ = try await playing.queue(rtt: [:])
            let value2 = await recorder.first { if case .snapshotApplied(3, _) = $0 { true } else { false } }
            #expect(value2 != nil)
            try playing.sendInputs([PlayerInput(moveX: 1)])
            let value3 = await eventually { acks().count == 1 }
            #expect(value3, "\(acks())")
            #expect(acks() == ["inputs+ack 3"])
            await playing.finish()

            // No input: the newest snapshot is acknowledged alone, once.
            let watching = GameClient(group: group, configuration: .init(maxAckDelay: .milliseconds(20)), logger: testLogger())
            try await watching.connect(host: "127.0.0.1", port: gateway.port)
            try await watching.hello()
            _ = try await watching.queue(rtt: [:])
            let value4 = await eventually { acks().count >= 2 && acks().last == "ack 3" }
            #expect(value4, "\(acks())")
            let value5 = acks().dropFirst().allSatisfy { $0.hasPrefix("ack ") }
            #expect(value5, "\(acks())")
            await watching.finish()
        }
    }

    @Test func serverCloseBecomesDisconnectedWithTheReason() async throws {
        try await withScoped({ try await FakeGateway.start(group: group) { request, peer in
            if Reply.basics(request, peer) { return }
            guard case .getProfile = request.body else { return }
            var error = Meridian_Client_V1_Error()
            error.code = .rateLimited
            error.message = "more than 100 messages per second"
            peer.send(Reply.message(0, .error(error)))
            peer.close()
        } }, teardown: { await $0.stop() }) { gateway in
            let client = GameClient(group: group, logger: testLogger())
            let recorder = EventRecorder(client.events)
            try await client.connect(host: "127.0.0.1", port: gateway.port)
            try await client.hello()
            do {
                _ = try await client.profile()
                Issue.record("profile() should fail: the gateway closed")
            } catch let error as MeridianClientError {
                #expect(error.code == .connectionClosed)
                #expect(error.serverCode == .rateLimited)
                #expect(error.message.contains("more than 100 messages per second"))
            }
            let disconnected = await recorder.first { if case .disconnected = $0 { true } else { false } }
            guard case .disconnected(let reason) = disconnected else {
                Issue.record("no disconnected event")
                return
            }
            #expect(reason.serverCode == .rateLimited)
            #expect(!client.isConnected)
            do {
                _ = try await client.ping()
                Issue.record("ping() should fail when not connected")
            } catch let error as MeridianClientError {
                // A request after the gateway closed says why it closed (a caller retries a close, not a misuse).
                #expect(error.code == .connectionClosed)
                #expect(error.serverCode == .rateLimited)
            }
            await client.finish()
        }
    }

    @Test func requestsTimeOutAndTheConnectionStaysUsable() async throws {
        try await withScoped({ try await FakeGateway.start(group: group) { request, peer in
            // Pings are never answered; hello is.
            if case .hello = request.body { peer.send(Reply.welcome(request)) }
        } }, teardown: { await $0.stop() }) { gateway in
            // Long enough that the answered hello below never times out on a loaded test machine.
            let configuration = GameClient.Configuration(connection: ClientConnectionConfiguration(requestTimeout: .seconds(1)))
            let client = GameClient(group: group, configuration: configuration, logger: testLogger())
            try await client.connect(host: "127.0.0.1", port: gateway.port)
            let started = ContinuousClock.now
            do {
                _ = try await client.ping()
                Issue.record("ping() should time out")
            } catch let error as MeridianClientError {
                #expect(error.code == .timeout)
            }
            #expect(ContinuousClock.now - started >= .seconds(1))
            let welcome = try await client.hello()
            #expect(welcome.region == "eu-west")
            await client.finish()
        }
    }

    @Test func connectToAClosedPortFailsWithConnectFailed() async throws {
        let gateway = try await FakeGateway.start(group: group) { _, _ in }
        let port = gateway.port
        await gateway.stop()
        let client = GameClient(group: group, logger: testLogger())
        do {
            try await client.connect(host: "127.0.0.1", port: port)
            Issue.record("connect should fail")
        } catch {
            #expect(error.code == .connectFailed)
        }
    }

    @Test func bindsTheGivenLocalAddress() async throws {
        try await withScoped({ try await FakeGateway.start(group: group) { request, peer in _ = Reply.basics(request, peer) } }, teardown: { await $0.stop() }) { gateway in
            let configuration = GameClient.Configuration(connection: ClientConnectionConfiguration(localAddress: "127.0.0.3"))
            let client = GameClient(group: group, configuration: configuration, logger: testLogger())
            try await client.connect(host: "127.0.0.1", port: gateway.port)
            try await client.hello()
            let value6 = gateway.box.peers.withLock { $0 }
            #expect(value6 == ["127.0.0.3"])
            await client.finish()
        }
    }
}

private func resultValue() -> GameEvent {
    var proto = Meridian_Client_V1_MatchResult()
    proto.matchID = "m1"
    proto.outcome = "win"
    proto.rewards = ["gold": 5]
    return .result(MatchResult(proto: proto))
}

@Suite("Reconnect")
struct ReconnectTests {
    let group = MultiThreadedEventLoopGroup.singleton

    static func loginScript(region: String) -> FakeGateway.Script {
        { request, peer in
            if Reply.basics(request, peer, region: region) { return }
            switch request.body {
            case .devLogin(let login):
                var result = Meridian_Client_V1_LoginResult()
                result.token = "signed-\(login.playerID)"
                result.playerID = login.playerID
                peer.send(Reply.message(request.requestID, .login(result)))
            case .resume(let resume):
                guard resume.token.hasPrefix("signed-") else {
                    var error = Meridian_Client_V1_Error()
                    error.code = .badToken
                    error.message = "token signature does not verify"
                    peer.send(Reply.message(request.requestID, .error(error)))
                    return
                }
                var result = Meridian_Client_V1_LoginResult()
                result.token = resume.token
                result.playerID = String(resume.token.dropFirst("signed-".count))
                var session = Meridian_Client_V1_SessionState()
                session.state = "in_match"
                session.matchID = "m1"
                result.session = session
                peer.send(Reply.message(request.requestID, .login(result)))
            default: break
            }
        }
    }

    @Test func reconnectResumesWithTheStoredTokenOnAnotherGateway() async throws {
        let first = try await FakeGateway.start(group: group, script: Self.loginScript(region: "eu-west"))
        try await withScoped({ try await FakeGateway.start(group: group, script: Self.loginScript(region: "us-east")) }, teardown: { await $0.stop() }) { second in
            let client = GameClient(group: group, logger: testLogger())
            let recorder = EventRecorder(client.events)
            try await client.connect(host: "127.0.0.1", port: first.port)
            try await client.hello()
            try await client.devLogin(playerID: "p9", displayName: "Nine")
            await first.stop()
            await client.close()
            let value7 = await recorder.first { if case .disconnected = $0 { true } else { false } }
            #expect(value7 != nil)

            let resumed = try await client.reconnect(host: "127.0.0.1", port: second.port)
            #expect(resumed.playerID == "p9")
            #expect(resumed.session?.matchID == "m1")
            #expect(client.gatewayRegion == "us-east")
            let bodies = second.receivedBodies()
            guard bodies.count == 2, case .hello = bodies[0], case .resume(let resume) = bodies[1] else {
                Issue.record("expected hello then resume, got \(bodies)")
                return
            }
            #expect(resume.token == "signed-p9")
            await client.finish()
        }
    }

    @Test func aBadTokenIsReportedAsSuch() async throws {
        try await withScoped({ try await FakeGateway.start(group: group, script: Self.loginScript(region: "eu-west")) }, teardown: { await $0.stop() }) { gateway in
            let client = GameClient(group: group, logger: testLogger())
            try await client.connect(host: "127.0.0.1", port: gateway.port)
            try await client.hello()
            do {
                try await client.resume(token: "forged")
                Issue.record("resume with a forged token should fail")
            } catch let error as MeridianClientError {
                #expect(error.code == .server)
                #expect(error.serverCode == .badToken)
                #expect(error.message.contains("log in again"))
            }
            #expect(client.isConnected, "BAD_TOKEN does not close the connection")
            do {
                try await client.reconnect(host: "127.0.0.1", port: gateway.port)
                Issue.record("reconnect without a login should fail")
            } catch let error as MeridianClientError {
                #expect(error.code == .invalidState)
            }
            await client.finish()
        }
    }
}
