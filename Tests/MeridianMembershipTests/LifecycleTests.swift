import MeridianMembership
import Testing

@Suite("Member lifecycle")
struct LifecycleTests {
    static let trio: [(node: String, region: String)] = [("n1", "eu"), ("n2", "eu"), ("n3", "eu")]

    @Test("a restarted node (larger incarnation) replaces the old one: old down, removed, new up")
    func restart() {
        var network = SimulatedNetwork()
        network.startCluster(Self.trio, seed: "n1")
        network.crash("n3")
        network.run(for: .milliseconds(100))
        network.restart("n3", incarnation: 2, seeds: ["n1"])

        let replaced = network.run(for: .seconds(5)) { network in
            ["n1", "n2"].allSatisfy { network.machine($0).member(node: "n3")?.id.incarnation == 2 }
                && network.everyoneSees(["n1": .up, "n2": .up, "n3": .up])
        }

        #expect(replaced)
        for observer in ["n1", "n2"] {
            let changes = network.changes(of: "n3", seenBy: observer).map(\.change)
            let old = changes.filter { $0.member.id.incarnation == 1 }.map(\.current)
            let new = changes.filter { $0.member.id.incarnation == 2 }.map(\.current)
            #expect(old.suffix(2) == [.down, .removed], "\(observer): \(old)")
            #expect(new == [.up], "\(observer): \(new)")
            let oldRemoved = changes.firstIndex { $0.member.id.incarnation == 1 && $0.current == .removed }!
            let newUp = changes.firstIndex { $0.member.id.incarnation == 2 }!
            #expect(oldRemoved < newUp, "the old incarnation is gone before the new one appears")
            #expect(network.machine(observer).isRemoved(MemberID(node: "n3", incarnation: 1)))
        }
        #expect(network.eventChainViolation() == nil)
    }

    @Test("a join from a larger incarnation emits old down, old removed, new up, in that order")
    func restartEventSequence() {
        var machine = Fixture.upMachine()
        Fixture.gossip([Fixture.update("x", incarnation: 1, .suspect, generation: 2)], to: &machine)

        let directives = machine.receive(
            .join(Fixture.update("x", incarnation: 2, .joining)),
            from: Fixture.address("x"),
            now: .zero
        )

        #expect(directives.transitions == ["x#1 suspect->down", "x#1 down->removed", "x#2 nil->up"])
        guard case .joinAck(let members) = directives.sends.last?.message else {
            Issue.record("the joiner gets the member list")
            return
        }
        #expect(members.map(\.id.node) == ["me", "x"])
        #expect(members.last?.status == .up)
    }

    @Test("graceful leave: the leaver is down at once, its peers mark it down then removed")
    func gracefulLeave() {
        var network = SimulatedNetwork()
        network.startCluster(Self.trio, seed: "n1")
        let leftAt = network.now
        network.leave("n3")
        #expect(network.machine("n3").myself.status == .down)
        let announcements = network.sentMessages.filter { $0.sentAt == leftAt && $0.message.kind == "leave" }
        #expect(Set(announcements.map(\.to)) == [SimulatedNetwork.address("n1"), SimulatedNetwork.address("n2")])

        network.run(for: .seconds(20))

        for observer in ["n1", "n2"] {
            #expect(network.transitions(of: "n3", seenBy: observer) == ["nil->up", "up->down", "down->removed"])
            let down = network.firstTime("n3", became: .down, seenBy: observer)!
            let removed = network.firstTime("n3", became: .removed, seenBy: observer)!
            #expect(down - leftAt < .milliseconds(10))
            #expect(removed - down >= network.configuration.removalDelay)
            #expect(removed - down <= network.configuration.removalDelay + network.tickInterval)
        }
        #expect(network.transitions(of: "n3", seenBy: "n3") == ["joining->up", "up->down"])
        #expect(network.machine("n1").members.map(\.id.node) == ["n1", "n2"])
        #expect(network.eventChainViolation() == nil)
    }

    @Test("leave reaches peers through gossip when the announcements are lost")
    func leaveThroughGossip() {
        var network = SimulatedNetwork()
        network.startCluster(Self.trio, seed: "n1")
        network.interceptor = { $0.message.kind == "leave" ? .drop : .deliver }
        network.leave("n3")

        let seen = network.run(for: .seconds(3)) { network in
            ["n1", "n2"].allSatisfy { network.status(of: "n3", seenBy: $0) == .down }
        }
        #expect(seen)
        let value1 = network.observations.allSatisfy { $0.change.current != .suspect }
        #expect(value1)
    }

    @Test("a node told it is dead steps down; so does one that hears of a newer incarnation of itself")
    func selfDown() {
        var machine = Fixture.upMachine()
        let dead = Fixture.gossip([Fixture.update("me", .down)], to: &machine)
        #expect(dead.transitions == ["me#1 up->down"])
        #expect(machine.tick(now: SWIMInstant(.seconds(5))).sends.isEmpty, "a dead node probes no one")

        var zombie = Fixture.upMachine()
        let superseded = Fixture.gossip([Fixture.update("me", incarnation: 2)], to: &zombie)
        #expect(superseded.transitions == ["me#1 up->down"])

        var current = Fixture.upMachine()
        let stale = Fixture.gossip([Fixture.update("me", incarnation: 0, .down)], to: &current)
        #expect(stale.changes.isEmpty, "news about a previous life is ignored")
    }
}
