import MeridianMembership
import Testing

@Suite("Gossip")
struct GossipTests {
    @Test("ten nodes converge on a death only one of them confirmed")
    func tenNodeConvergence() {
        var network = SimulatedNetwork()
        let nodes = (1...10).map { (node: "n\($0)", region: "eu") }
        // Only n1 confirms deaths in time; the others would wait a minute, so any of them
        // seeing n10 down within seconds learnt it through gossip.
        var patient = SWIMConfiguration()
        patient.suspicionTimeout = .seconds(60)
        var quick = SWIMConfiguration()
        quick.suspicionTimeout = .milliseconds(500)
        for (node, region) in nodes {
            network.add(node, region: region, configuration: node == "n1" ? quick : patient)
        }
        network.join("n1", seeds: [])
        for (node, _) in nodes.dropFirst() { network.join(node, seeds: ["n1"]) }
        network.run(for: .seconds(5))
        let value1 = network.everyoneSees(Dictionary(uniqueKeysWithValues: nodes.map { ($0.node, .up) }))
        #expect(value1)

        network.crash("n10")
        let survivors = nodes.map(\.node).dropLast()
        let converged = network.run(for: .seconds(8)) { network in
            survivors.allSatisfy { network.status(of: "n10", seenBy: $0) == .down }
        }

        #expect(converged)
        let confirmed = try! #require(network.firstTime("n10", became: .down, seenBy: "n1"))
        for observer in survivors.dropFirst() {
            let learnt = try! #require(network.firstTime("n10", became: .down, seenBy: observer))
            #expect(learnt - confirmed < .seconds(3), "\(observer) learnt after \(learnt - confirmed)")
        }
        let value2 = network.sentMessages.allSatisfy { $0.message.gossip.count <= network.configuration.maxGossipPerMessage }
        #expect(
            value2
        )
        #expect(network.eventChainViolation() == nil)
    }

    @Test("a settled cluster stops piggybacking: every update has a bounded budget")
    func gossipDrains() {
        var network = SimulatedNetwork()
        network.startCluster((1...6).map { (node: "n\($0)", region: "eu") }, seed: "n1")
        network.run(for: .seconds(20))
        for node in network.nodes.keys {
            #expect(network.machine(node).pendingGossipCount == 0, "\(node)")
        }
        let late = network.sentMessages.filter { $0.sentAt > SWIMInstant(.seconds(20)) }
        let value3 = late.allSatisfy { $0.message.gossip.isEmpty }
        #expect(value3)
    }

    @Test("each update is piggybacked multiplier·ceil(log2(n+1)) times, least-transmitted first")
    func retransmitBudget() {
        var configuration = SWIMConfiguration()
        configuration.maxGossipPerMessage = 2
        var machine = Fixture.upMachine(configuration: configuration)
        // Four members in all: the budget is 3 · ceil(log2 5) = 9.
        let learnt = [Fixture.update("a"), Fixture.update("b"), Fixture.update("c")]

        var counts: [String: Int] = [:]
        for round in 0..<40 {
            let directives = machine.receive(
                .ping(sequence: UInt64(round), gossip: round == 0 ? learnt : []),
                from: Fixture.address("a"),
                now: .zero
            )
            guard case .ack(_, _, let gossip) = directives.sends.first?.message else {
                Issue.record("a ping is answered with an ack")
                return
            }
            #expect(gossip.count <= 2)
            for update in gossip { counts[update.id.node, default: 0] += 1 }
            #expect((counts.values.max() ?? 0) - (counts.values.min() ?? 0) <= 2, "least-transmitted first")
        }
        #expect(counts == ["me": 9, "a": 9, "b": 9, "c": 9])
        #expect(machine.pendingGossipCount == 0)
    }

    @Test("a suspect member is told of its suspicion on every message, even after the budget ran out")
    func verdictToSuspect() {
        var machine = Fixture.upMachine()
        Fixture.gossip([Fixture.update("x", .suspect, generation: 3)], to: &machine)
        for round in 0..<30 {
            _ = machine.receive(.ping(sequence: UInt64(round), gossip: []), from: Fixture.address("y"), now: .zero)
        }
        #expect(machine.pendingGossipCount == 0)

        let reply = machine.receive(.ping(sequence: 99, gossip: []), from: Fixture.address("x"), now: .zero)

        guard case .ack(_, _, let gossip) = reply.sends.first?.message else {
            Issue.record("a ping is answered with an ack")
            return
        }
        #expect(gossip == [Fixture.update("x", .suspect, generation: 3)])
    }

    @Test("hearing from a member directly refreshes lastSeen; hearing about it does not")
    func lastSeen() {
        var machine = Fixture.upMachine()
        Fixture.gossip(
            [Fixture.update("x"), Fixture.update("y")],
            to: &machine,
            from: "x",
            now: SWIMInstant(.seconds(1))
        )
        #expect(machine.member(node: "x")?.lastSeen == SWIMInstant(.seconds(1)))
        #expect(machine.member(node: "y")?.lastSeen == nil)

        _ = machine.receive(
            .nack(sequence: 1, target: Fixture.update("z").id, gossip: []),
            from: Fixture.address("y"),
            now: SWIMInstant(.seconds(2))
        )
        _ = machine.receive(
            .ack(sequence: 1, target: Fixture.update("y").id, gossip: [Fixture.update("x")]),
            from: Fixture.address("y"),
            now: SWIMInstant(.seconds(3))
        )

        #expect(machine.member(node: "y")?.lastSeen == SWIMInstant(.seconds(3)))
        #expect(machine.member(node: "x")?.lastSeen == SWIMInstant(.seconds(1)))
    }

    @Test("a member that hears it is suspected refutes with a higher generation")
    func refuteByGossip() {
        var machine = Fixture.upMachine()
        let directives = Fixture.gossip([Fixture.update("me", .suspect, generation: 4)], to: &machine)

        #expect(directives.changes.isEmpty)
        #expect(machine.myself.status == .up)
        #expect(machine.myself.generation == 5)
        guard case .ack(_, _, let gossip) = directives.sends.first?.message else {
            Issue.record("a ping is answered with an ack")
            return
        }
        #expect(gossip.contains(Fixture.update("me", .up, generation: 5)), "the refutation rides on the very reply")

        // An old suspicion (already refuted) keeps the generation.
        _ = Fixture.gossip([Fixture.update("me", .suspect, generation: 4)], to: &machine)
        #expect(machine.myself.generation == 5)
    }

    /// Found by ShardHandoverTests on a loaded 2-core machine: a member refuted a suspicion,
    /// its refutation's budget went to members that already knew, and a member still holding the
    /// old suspicion probed it every round — without learning the refutation, until its
    /// suspicion expired.
    @Test("a member still holding a refuted suspicion gets the refutation back, even after its budget ran out")
    func staleSuspicionIsAnsweredWithTheRefutation() {
        var machine = Fixture.upMachine()
        Fixture.gossip([Fixture.update("x"), Fixture.update("y")], to: &machine)
        _ = Fixture.gossip([Fixture.update("me", .suspect, generation: 0)], to: &machine, from: "x")
        #expect(machine.myself.generation == 1)
        for round in 0..<30 {
            _ = machine.receive(.ping(sequence: UInt64(round), gossip: []), from: Fixture.address("x"), now: .zero)
        }
        #expect(machine.pendingGossipCount == 0)

        let reply = Fixture.gossip([Fixture.update("me", .suspect, generation: 0)], to: &machine, from: "y")

        guard case .ack(_, _, let gossip) = reply.sends.first?.message else {
            Issue.record("a ping is answered with an ack")
            return
        }
        #expect(gossip.contains(Fixture.update("me", .up, generation: 1)), "the refutation rides on the reply to the stale suspicion")
        #expect(machine.myself.generation == 1)
    }
}
