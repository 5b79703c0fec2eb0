import MeridianMembership
import Testing

@Suite("Joining")
struct JoinTests {
    @Test("three nodes joining through one seed all end up up")
    func joinThroughOneSeed() {
        var network = SimulatedNetwork()
        network.add("n1")
        network.add("n2")
        network.add("n3")
        network.join("n1", seeds: [])
        #expect(network.machine("n1").myself.status == .up, "a node with no other seed starts the cluster at once")
        network.join("n2", seeds: ["n1"])
        network.join("n3", seeds: ["n1"])
        #expect(network.machine("n2").myself.status == .joining)

        network.run(for: .seconds(3))

        #expect(network.everyoneSees(["n1": .up, "n2": .up, "n3": .up]))
        #expect(network.transitions(of: "n2", seenBy: "n2") == ["joining->up"])
        #expect(network.transitions(of: "n2", seenBy: "n1") == ["nil->up"])
        #expect(network.transitions(of: "n3", seenBy: "n2") == ["nil->up"])
        #expect(network.eventChainViolation() == nil)
        // Acceptance is immediate: one in-region round trip, not a retry interval.
        #expect(network.firstTime("n2", became: .up, seenBy: "n2")! < SWIMInstant(.milliseconds(10)))
    }

    @Test("two seeds started at the same time form one cluster", arguments: [2, 3])
    func simultaneousSeeds(count: Int) {
        var network = SimulatedNetwork()
        let seeds = (1...count).map { "seed\($0)" }
        for seed in seeds { network.add(seed) }
        // Each seed lists every seed, itself included, as a topology file would.
        for seed in seeds { network.join(seed, seeds: seeds) }

        network.run(for: .seconds(3))

        let value1 = network.everyoneSees(Dictionary(uniqueKeysWithValues: seeds.map { ($0, .up) }))
        #expect(value1)
        for seed in seeds {
            // Up by accepting each other, not by the lone-seed fallback after 2 s.
            #expect(network.firstTime(seed, became: .up, seenBy: seed)! < SWIMInstant(.seconds(1)))
        }
        #expect(network.eventChainViolation() == nil)
    }

    @Test("a seed that hears from no other seed starts alone after two retry intervals")
    func loneSeedBootstraps() {
        var network = SimulatedNetwork()
        network.add("seed1")
        network.add("seed2")
        network.crash("seed2")
        network.join("seed1", seeds: ["seed1", "seed2"])

        network.run(for: .milliseconds(1950))
        #expect(network.machine("seed1").myself.status == .joining)
        network.run(for: .milliseconds(50))
        #expect(network.machine("seed1").myself.status == .up)
        #expect(network.firstTime("seed1", became: .up, seenBy: "seed1") == SWIMInstant(.seconds(2)))
    }

    @Test("a non-seed retries its join every retry interval and never starts alone")
    func nonSeedRetries() {
        var network = SimulatedNetwork()
        network.add("seed")
        network.add("n2")
        network.crash("seed")
        network.join("n2", seeds: ["seed"])

        network.run(for: .milliseconds(4500))

        #expect(network.machine("n2").myself.status == .joining)
        let joins = network.sentMessages.filter { $0.message.kind == "join" }.map(\.sentAt)
        let value2 = [0, 1, 2, 3, 4].map { SWIMInstant(.seconds($0)) }
        #expect(joins == value2)
    }

    @Test("a lost joinAck does not keep the joiner out")
    func lostJoinAck() {
        var network = SimulatedNetwork()
        network.add("n1")
        network.add("n2")
        network.join("n1", seeds: [])
        var dropped = false
        network.interceptor = { envelope in
            if case .joinAck = envelope.message, !dropped {
                dropped = true
                return .drop
            }
            return .deliver
        }
        network.join("n2", seeds: ["n1"])

        network.run(for: .seconds(2))

        #expect(dropped)
        #expect(network.everyoneSees(["n1": .up, "n2": .up]))
        // The seed's first probe (whose gossip shows n2 up) or the retry, whichever comes first.
        let up = network.firstTime("n2", became: .up, seenBy: "n2")!
        #expect(up < SWIMInstant(.milliseconds(1100)))
        #expect(network.transitions(of: "n2", seenBy: "n1") == ["nil->up"], "a repeated join is not a new member")
    }

    @Test("when nothing but the join retry gets through, the joiner is up one retry interval later")
    func joinRetryPath() {
        var network = SimulatedNetwork()
        network.add("n1")
        network.add("n2")
        network.join("n1", seeds: [])
        // Everything to n2 is lost for the first second: the first joinAck, the seed's probes.
        network.interceptor = { envelope in
            envelope.to == SimulatedNetwork.address("n2") && envelope.sentAt < SWIMInstant(.seconds(1))
                ? .drop : .deliver
        }
        network.join("n2", seeds: ["n1"])

        network.run(for: .seconds(2))

        let up = network.firstTime("n2", became: .up, seenBy: "n2")
        let value3 = up.map { $0 >= SWIMInstant(.seconds(1)) && $0 < SWIMInstant(.milliseconds(1010)) }
        #expect(value3 == true)
        #expect(network.everyoneSees(["n1": .up, "n2": .up]))
    }

    @Test("two seeds that started apart during a partition merge their clusters when it heals")
    func separatelyBootstrappedSeedsMerge() {
        var network = SimulatedNetwork()
        for node in ["seedA", "seedB", "a2", "b2"] { network.add(node) }
        var partitioned = true
        network.interceptor = { envelope in
            let ends = Set([SimulatedNetwork.node(at: envelope.from), SimulatedNetwork.node(at: envelope.to)])
            return partitioned && ends.contains("seedA") && ends.contains("seedB") ? .drop : .deliver
        }
        network.join("seedA", seeds: ["seedA", "seedB"])
        network.join("seedB", seeds: ["seedA", "seedB"])
        network.join("a2", seeds: ["seedA"])
        network.join("b2", seeds: ["seedB"])
        network.run(for: .seconds(3))
        #expect(network.machine("a2").members.map(\.id.node) == ["a2", "seedA"])
        #expect(network.machine("b2").members.map(\.id.node) == ["b2", "seedB"])

        partitioned = false
        let merged = network.run(for: .seconds(10)) {
            $0.everyoneSees(["seedA": .up, "seedB": .up, "a2": .up, "b2": .up])
        }

        #expect(merged)
        #expect(network.eventChainViolation() == nil)
    }

    @Test("joining twice, or receiving a join while joining as a non-seed, does nothing")
    func joinIsIdempotent() {
        var machine = SWIMStateMachine(
            myself: MemberUpdate(
                id: MemberID(node: "n1", incarnation: 1),
                region: "eu",
                address: "n1:1",
                status: .joining
            ),
            configuration: SWIMConfiguration(),
            roundTrip: { _, _ in .zero },
            now: .zero,
            seed: 1
        )
        #expect(machine.join(seeds: ["seed:1"], now: .zero).count == 1)
        #expect(machine.join(seeds: ["seed:1"], now: .zero).isEmpty)
        let joiner = MemberUpdate(
            id: MemberID(node: "n2", incarnation: 1),
            region: "eu",
            address: "n2:1",
            status: .joining
        )
        #expect(machine.receive(.join(joiner), from: "n2:1", now: .zero).isEmpty)
        #expect(machine.members.map(\.id.node) == ["n1"])
    }
}
