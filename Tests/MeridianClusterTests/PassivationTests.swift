import Distributed
import MeridianClock
import MeridianCluster
import Synchronization
import Testing

/// An activated actor that agrees to passivate unless pinned.
distributed actor Tally: PassivatableActor {
    typealias ActorSystem = ClusterSystem

    private var total = 0
    private var pinned = false
    private(set) var wasPassivated = false

    distributed func add(_ amount: Int) -> Int {
        total += amount
        return total
    }

    /// Holds state that must not be lost: refuses to passivate.
    distributed func pin() { pinned = true }

    func readyToPassivate() -> Bool { !pinned }

    func passivated() { wasPassivated = true }
}

@Suite("Passivation")
struct PassivationTests {
    /// An activator on `host` for `/tally/` counting the instances it makes.
    private static func tallies(on host: ClusterSystem, after: Duration) -> Counter {
        let created = Counter()
        host.registerActivator(prefix: "/tally/", passivateAfter: after) { path in
            created.increment()
            return try host.makeActor(path: path) { Tally(actorSystem: host) }
        }
        return created
    }

    private static func id(_ number: Int, on host: ClusterSystem) -> ClusterActorID {
        ClusterActorID(node: host.nodeID, incarnation: host.incarnation, path: "/tally/\(number)")
    }

    @Test func anUnusedActorIsPassivatedAndTheNextCallActivatesAFreshOne() async throws {
        let clock = ManualClock()
        try await TestCluster.with(nodes: 2, clock: clock) { cluster in
            let (caller, host) = (cluster.systems[0], cluster.systems[1])
            let created = Self.tallies(on: host, after: .milliseconds(50))
            let idle = try Tally.resolve(id: Self.id(1, on: host), using: caller)
            let pinned = try Tally.resolve(id: Self.id(2, on: host), using: caller)
            // Pinned by its first call, so the node's own sweep cannot take it before.
            try await pinned.pin()
            #expect(try await pinned.add(7) == 7)
            #expect(try await idle.add(5) == 5)
            #expect(created.value == 2)

            // Step past the timeout (the node's own sweep may get there first).
            clock.advance(by: .milliseconds(51))
            await host.passivateIdleActors()

            #expect(try await idle.add(1) == 1, "a fresh instance: the in-memory total went with the old one")
            #expect(try await pinned.add(1) == 8, "the pinned actor stayed")
            #expect(created.value == 3)
        }
    }

    @Test func anActorInUseIsNotPassivated() async throws {
        try await TestCluster.with(nodes: 2) { cluster in
            let (caller, host) = (cluster.systems[0], cluster.systems[1])
            let created = Self.tallies(on: host, after: .seconds(30))
            let tally = try Tally.resolve(id: Self.id(1, on: host), using: caller)
            #expect(try await tally.add(2) == 2)
            #expect(await host.passivateIdleActors() == 0, "used moments ago")
            #expect(try await tally.add(2) == 4)
            #expect(created.value == 1)
        }
    }

    /// A caller that holds the old instance still reaches it; the instance knows it was
    /// passivated (so it can hand state changes to its successor), and a new lookup gets a new one.
    @Test func aHeldInstanceLearnsItWasPassivated() async throws {
        let clock = ManualClock()
        try await TestCluster.with(nodes: 1, clock: clock) { cluster in
            let host = cluster.systems[0]
            let created = Self.tallies(on: host, after: .milliseconds(50))
            let held = try #require(try host.resolve(id: Self.id(1, on: host), as: Tally.self))
            #expect(try await held.add(3) == 3)
            clock.advance(by: .milliseconds(51))
            await host.passivateIdleActors()

            let value1 = await held.whenLocal { $0.wasPassivated }
            #expect(value1 == true)
            let successor = try #require(try host.resolve(id: Self.id(1, on: host), as: Tally.self))
            #expect(successor !== held)
            let value2 = await successor.whenLocal { $0.wasPassivated }
            #expect(value2 == false)
            #expect(created.value == 2)
            // The old instance ending does not take its successor's registration with it.
            _ = consume held
            #expect(try host.resolve(id: Self.id(1, on: host), as: Tally.self) === successor)
            #expect(created.value == 2)
        }
    }
}
