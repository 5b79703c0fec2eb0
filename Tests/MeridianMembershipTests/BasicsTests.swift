import Testing

@testable import MeridianMembership

@Suite("Basics")
struct BasicsTests {
    @Test("SWIMInstant arithmetic saturates instead of trapping")
    func instantArithmetic() {
        let start = SWIMInstant(nanoseconds: 1_000)
        #expect(start + .microseconds(2) == SWIMInstant(nanoseconds: 3_000))
        #expect(start + .nanoseconds(-400) == SWIMInstant(nanoseconds: 600))
        #expect(start + .seconds(-1) == .zero)
        #expect(SWIMInstant(nanoseconds: .max - 1) + .seconds(1) == SWIMInstant(nanoseconds: .max))
        #expect(SWIMInstant(.milliseconds(1500)) == SWIMInstant(nanoseconds: 1_500_000_000))
        #expect(SWIMInstant(.seconds(-3)) == .zero)
        #expect(SWIMInstant(.seconds(2)) - SWIMInstant(.milliseconds(500)) == .milliseconds(1500))
        #expect(SWIMInstant(.milliseconds(500)) - SWIMInstant(.seconds(2)) == .milliseconds(-1500))
        var instant = SWIMInstant.zero
        instant += .milliseconds(7)
        #expect(instant.description == "7ms")
    }

    @Test("the PRNG is reproducible and its shuffle is a permutation")
    func deterministicRandom() {
        var first = DeterministicRandom(seed: 7)
        var second = DeterministicRandom(seed: 7)
        var other = DeterministicRandom(seed: 8)
        let a = (0..<8).map { _ in first.next() }
        let value1 = (0..<8).map { _ in second.next() }
        #expect(a == value1)
        let value2 = (0..<8).map { _ in other.next() }
        #expect(a != value2)

        var values = Array(0..<50)
        first.shuffle(&values)
        #expect(values.sorted() == Array(0..<50))
        #expect(values != Array(0..<50))
        let value3 = (0..<1_000).allSatisfy { _ in (0..<5).contains(first.below(5)) }
        #expect(value3)
    }

    @Test("the documented defaults and detection bounds")
    func configurationBounds() {
        let configuration = SWIMConfiguration()
        #expect(configuration.probeInterval == .milliseconds(300))
        #expect(configuration.pingTimeout == .milliseconds(250))
        #expect(configuration.suspicionTimeout == .seconds(2))
        #expect(configuration.removalDelay == .seconds(15))
        // From the start of a probe nobody answers to down: 2.3 s in-region, + 6 round trips across.
        #expect(
            configuration.probeFailureTime(roundTrip: .zero) + configuration.suspicionTimeout(roundTrip: .zero)
                == .milliseconds(2300)
        )
        let rtt = Duration.milliseconds(140)
        #expect(
            configuration.probeFailureTime(roundTrip: rtt) + configuration.suspicionTimeout(roundTrip: rtt)
                == .milliseconds(3140)
        )
        // From a crash, with round-robin's worst wait before the first probe.
        #expect(configuration.detectionBound(memberCount: 3) == .milliseconds(3200))
        #expect(configuration.detectionBound(memberCount: 2) == .milliseconds(2600))
        #expect(configuration.detectionBound(memberCount: 3, roundTrip: rtt) == .milliseconds(4040))
        #expect(configuration.directPingTimeout(roundTrip: rtt) == .milliseconds(390))
    }

    @Test(
        "the gossip budget is multiplier · ceil(log2(n + 1))",
        arguments: [(1, 3), (3, 6), (4, 9), (7, 9), (10, 12), (100, 21)]
    )
    func gossipBudget(members: Int, budget: Int) {
        #expect(SWIMConfiguration().gossipRetransmitLimit(memberCount: members) == budget)
    }

    @Test("a fresh machine is joining and knows only itself")
    func freshMachine() {
        let machine = SWIMStateMachine(
            myself: Fixture.update("me", .up, generation: 3),
            configuration: SWIMConfiguration(),
            roundTrip: { _, _ in .zero },
            now: SWIMInstant(.seconds(1)),
            seed: 1
        )
        #expect(machine.myself.status == .joining)
        #expect(machine.myself.generation == 3)
        #expect(machine.members.map(\.id.node) == ["me"])
        #expect(machine.upMembers.isEmpty)
        #expect(machine.member(node: "me")?.id == MemberID(node: "me", incarnation: 1))
        #expect(machine.description == "SWIM(me#1@me:1[eu] joining g3; alone)")
    }

    @Test("members and upMembers are sorted by node id and include down members until removed")
    func memberListing() {
        var machine = Fixture.upMachine("m")
        Fixture.gossip([Fixture.update("z"), Fixture.update("a", .down), Fixture.update("q", .suspect)], to: &machine)
        #expect(machine.members.map(\.id.node) == ["a", "m", "q", "z"])
        #expect(machine.upMembers.map(\.id.node) == ["m", "z"])
    }
}
