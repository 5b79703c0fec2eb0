import Atomics
import Distributed
import Foundation
import MeridianCluster
import MeridianMembership
import MeridianTransport
import Synchronization
import Testing

@Suite("Remote calls between three ClusterSystems over loopback TCP")
struct RemoteCallTests {
    @Test func valuesRoundTripBetweenEveryPair() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let calculators = try cluster.systems.map { system in
                try system.makeActor(path: "/calc") { Calculator(actorSystem: system) }
            }
            for caller in cluster.systems {
                for target in calculators where target.id.node != caller.nodeID {
                    let remote = try Calculator.resolve(id: target.id, using: caller)
                    #expect(try await remote.add(40, 2) == 42)
                    #expect(try await remote.node() == target.id.node)
                    let text = try await remote.describe("n", [1, 2, 3], nil, ["b": 1, "a": 2])
                    #expect(text == "n:6:none:a,b")
                }
            }
            await cluster.shutdown()
            _ = calculators
        }
    }

    @Test func thrownErrorsArriveTyped() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let system = cluster.systems[1]
            let calculator = try system.makeActor(path: "/calc") { Calculator(actorSystem: system) }
            let remote = try Calculator.resolve(id: calculator.id, using: cluster.systems[0])
            #expect(try await remote.divide(9, by: 3) == 3)
            let error = await #expect(throws: ClusterError.self) { try await remote.divide(1, by: 0) }
            #expect(error?.code == .remoteError)
            #expect(error?.remoteType?.contains("CalculatorError") == true)
            #expect(error?.message == "calculator refused: division by zero")
        }
    }

    @Test func callsTimeOutAtTheirDeadline() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let system = cluster.systems[2]
            let calculator = try system.makeActor(path: "/calc") { Calculator(actorSystem: system) }
            let remote = try Calculator.resolve(id: calculator.id, using: cluster.systems[0])
            let error = await #expect(throws: ClusterError.self) {
                try await ClusterSystem.withCallTimeout(.milliseconds(200)) { try await remote.slow(milliseconds: 5_000) }
            }
            #expect(error?.code == .timeout)
            // The callee hears that the caller gave up and stops working on it.
            try await eventually { try await remote.cancellationsObserved() == 1 }
        }
    }

    @Test func aPeerMayRunOnlyMaxInboundCallsPerPeerAtOnce() async throws {
        try await TestCluster.with(nodes: 3, configure: { $0.maxInboundCallsPerPeer = 4 }) { cluster in
            let system = cluster.systems[1]
            let calculator = try system.makeActor(path: "/calc") { Calculator(actorSystem: system) }
            let remote = try Calculator.resolve(id: calculator.id, using: cluster.systems[0])
            let running = (0..<4).map { _ in Task { try await remote.slow(milliseconds: 60_000) } }
            try await eventually { try await calculator.slowCallsReceived() == 4 }  // asked locally: not a call from a peer
            // One more from the same peer is refused at once, and never runs.
            let error = await #expect(throws: ClusterError.self) { try await remote.add(1, 2) }
            #expect(error?.code == .overloaded)
            #expect(error?.message.contains("maxInboundCallsPerPeer") == true)
            // The cap is per peer: another node's calls still run.
            let other = try Calculator.resolve(id: calculator.id, using: cluster.systems[2])
            #expect(try await other.add(2, 3) == 5)
            // As the peer's calls end, its new calls run again.
            for task in running { task.cancel() }
            try await eventually { (try? await remote.add(3, 4)) == 7 }
            #expect(try await calculator.slowCallsReceived() == 4)
        }
    }

    @Test func cancellationReachesTheCallee() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let system = cluster.systems[1]
            let calculator = try system.makeActor(path: "/calc") { Calculator(actorSystem: system) }
            let remote = try Calculator.resolve(id: calculator.id, using: cluster.systems[0])
            let call = Task { try await remote.slow(milliseconds: 10_000) }
            try await eventually { try await remote.slowCallsReceived() == 1 }  // the callee is working on it
            call.cancel()
            let result = await call.result
            guard case .failure(let error as ClusterError) = result else {
                Issue.record("expected a ClusterError, got \(result)")
                return
            }
            #expect(error.code == .cancelled)
            try await eventually { try await remote.cancellationsObserved() == 1 }
        }
    }

    @Test func unknownActorIsReportedAsNotFound() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let target = cluster.systems[1]
            let id = ClusterActorID(node: target.nodeID, incarnation: target.incarnation, path: "/no/such/actor")
            let remote = try Calculator.resolve(id: id, using: cluster.systems[0])
            let error = await #expect(throws: ClusterError.self) { try await remote.add(1, 1) }
            #expect(error?.code == .actorNotFound)
            // A local ID with no actor fails at resolve, without a round trip.
            let local = ClusterActorID(node: cluster.systems[0].nodeID, incarnation: cluster.systems[0].incarnation, path: "/nope")
            #expect(throws: ClusterError.self) { try Calculator.resolve(id: local, using: cluster.systems[0]) }
        }
    }

    @Test func callsToANodeThatGoesDownFailFast() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let doomed = cluster.systems[2]
            let calculator = try doomed.makeActor(path: "/calc") { Calculator(actorSystem: doomed) }
            let remote = try Calculator.resolve(id: calculator.id, using: cluster.systems[0])
            #expect(try await remote.add(1, 2) == 3)
            let pending = Task { try await remote.slow(milliseconds: 30_000) }
            try await eventually { try await remote.slowCallsReceived() == 1 }  // the callee is working on it
            let started = ContinuousClock.now
            await doomed.shutdown()
            let result = await pending.result
            guard case .failure(let error as ClusterError) = result else {
                Issue.record("expected a ClusterError, got \(result)")
                return
            }
            #expect([.nodeDown, .nodeUnreachable].contains(error.code))
            #expect(ContinuousClock.now - started < .seconds(10), "the call must fail long before its 10 s deadline")
            // Once membership has it down, new calls fail at once with nodeDown.
            try await cluster.systems[0].membership.waitUntil(timeout: .seconds(30)) { members in
                members.first { $0.id.node == doomed.nodeID }.map { $0.status >= .down } ?? true
            }
            let error2 = await #expect(throws: ClusterError.self) { try await remote.add(1, 1) }
            #expect(error2?.code == .nodeDown)
        }
    }

    @Test func callsToAProcessWithAnotherSecretFailFastAsUnreachable() async throws {
        try await TestCluster.with(nodes: 2) { cluster in
            var foreign = TestCluster.configuration(node: "foreign", seeds: [])
            foreign.secret = ClusterSecret(text: "some-other-secret-456789")!
            let stranger = try await ClusterSystem.start(foreign, logger: cluster.systems[0].logger)
            let calculator = try stranger.makeActor(path: "/calc") { Calculator(actorSystem: stranger) }
            var client = TestCluster.configuration(node: "client", seeds: [])
            client.joinsCluster = false
            client.knownAddresses = ["foreign": stranger.address]
            let caller = try await ClusterSystem.start(client, logger: cluster.systems[0].logger)
            let remote = try Calculator.resolve(id: calculator.id, using: caller)
            let started = ContinuousClock.now
            let error = await #expect(throws: ClusterError.self) { try await remote.add(1, 1) }
            #expect(error?.code == .nodeUnreachable, "the handshake fails, so the call cannot be delivered: \(String(describing: error))")
            #expect(ContinuousClock.now - started < .seconds(9), "fails when the handshake fails, not at the 10 s deadline")
            #expect(caller.transportErrors.authenticationFailures.load(ordering: .relaxed) >= 1, "the dialer finds the acceptor's proof wrong")
            await caller.shutdown()
            await stranger.shutdown()
        }
    }

    @Test func actorReferencesTravelAsArguments() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let b = cluster.systems[1], c = cluster.systems[2]
            let onB = try b.makeActor(path: "/calc") { Calculator(actorSystem: b) }
            let onC = try c.makeActor(path: "/calc") { Calculator(actorSystem: c) }
            let viaA = try Calculator.resolve(id: onB.id, using: cluster.systems[0])
            let cFromA = try Calculator.resolve(id: onC.id, using: cluster.systems[0])
            // A asks B to call C, handing B a reference to C.
            #expect(try await viaA.addThrough(cFromA, 20, 22) == 42)
        }
    }

    @Test func manyConcurrentCallsAllComplete() async throws {
        try await TestCluster.with(nodes: 2) { cluster in
            let system = cluster.systems[1]
            let calculator = try system.makeActor(path: "/calc") { Calculator(actorSystem: system) }
            let remote = try Calculator.resolve(id: calculator.id, using: cluster.systems[0])
            let sum = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<2_000 { group.addTask { try await remote.add(index, 1) } }
                return try await group.reduce(0, +)
            }
            #expect(sum == (0..<2_000).reduce(0, +) + 2_000)
        }
    }
}

/// Polls `condition` until it holds or 10 s pass.
func eventually(_ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    #expect(try await condition(), "condition did not hold within 10 s")
}

@Suite("Virtual actors")
struct ActivationTests {
    @Test func anActivatorCreatesTheActorOnFirstCall() async throws {
        try await TestCluster.with(nodes: 2) { cluster in
            let host = cluster.systems[1]
            let created = Counter()
            let keep = ActorKeeper()
            host.registerActivator(prefix: "/calc/") { path in
                created.increment()
                let actor = try host.makeActor(path: path) { Calculator(actorSystem: host) }
                keep.hold(actor)
                return actor
            }
            let id = ClusterActorID(node: host.nodeID, incarnation: host.incarnation, path: "/calc/7")
            let remote = try Calculator.resolve(id: id, using: cluster.systems[0])
            #expect(try await remote.add(3, 4) == 7)
            #expect(try await remote.add(1, 1) == 2)
            #expect(created.value == 1, "activated once, then found")
            // Outside every prefix: still not found.
            let other = try Calculator.resolve(id: ClusterActorID(node: host.nodeID, incarnation: host.incarnation, path: "/nope/1"), using: cluster.systems[0])
            let error = await #expect(throws: ClusterError.self) { try await other.add(1, 1) }
            #expect(error?.code == .actorNotFound)
        }
    }
}

/// Keeps activated actors alive for a test (an activator without passivation keeps its actors).
final class ActorKeeper: Sendable {
    private let actors = Mutex<[Calculator]>([])
    func hold(_ actor: Calculator) { actors.withLock { $0.append(actor) } }
}

@Suite("Addressing")
struct AddressingTests {
    @Test func incarnationZeroOnTheOwnNodeResolvesTheLocalActor() async throws {
        try await TestCluster.with(nodes: 2) { cluster in
            let system = cluster.systems[0]
            let calculator = try system.makeActor(path: "/calc") { Calculator(actorSystem: system) }
            let byAnyIncarnation = try Calculator.resolve(id: ClusterActorID(node: system.nodeID, incarnation: 0, path: "/calc"), using: system)
            #expect(byAnyIncarnation === calculator)
            #expect(try await byAnyIncarnation.add(2, 3) == 5)
        }
    }
}
