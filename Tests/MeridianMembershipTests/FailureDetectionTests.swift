import MeridianMembership
import Testing

@Suite("Failure detection")
struct FailureDetectionTests {
    static let inRegion: [(node: String, region: String)] = [("n1", "eu"), ("n2", "eu"), ("n3", "eu")]

    @Test("a member that stops answering goes suspect, down, then removed, within the documented bounds")
    func crashTiming() {
        var network = SimulatedNetwork()
        network.startCluster(Self.inRegion, seed: "n1")
        #expect(network.everyoneSees(["n1": .up, "n2": .up, "n3": .up]))
        network.run(for: .milliseconds(10))
        let crashedAt = network.now
        network.crash("n3")

        let removed = network.run(for: .seconds(30)) {
            $0.everyoneSees(["n1": .up, "n2": .up])
        }
        #expect(removed)

        let configuration = network.configuration
        let tick = network.tickInterval
        let observers = ["n1", "n2"]
        let suspected = observers.compactMap { network.firstTime("n3", became: .suspect, seenBy: $0) }
        let downs = observers.compactMap { network.firstTime("n3", became: .down, seenBy: $0) }
        let firstSuspect = try! #require(suspected.min())
        let firstDown = try! #require(downs.min())

        // Not before a probe could have failed: a direct timeout plus the indirect window.
        #expect(firstSuspect - crashedAt >= configuration.probeFailureTime(roundTrip: .zero))
        // The first suspecter's own timer confirms it; nothing shortens the suspicion.
        #expect(firstDown - firstSuspect >= configuration.suspicionTimeout)
        #expect(firstDown - firstSuspect <= configuration.suspicionTimeout + tick)
        // By the documented bound, plus the two ticks at which deadlines are observed.
        #expect(firstDown - crashedAt <= configuration.detectionBound(memberCount: 3) + tick * 2)

        for observer in observers {
            let down = try! #require(network.firstTime("n3", became: .down, seenBy: observer))
            let gone = try! #require(network.firstTime("n3", became: .removed, seenBy: observer))
            #expect(gone - down >= configuration.removalDelay)
            #expect(gone - down <= configuration.removalDelay + tick)
            let transitions = network.transitions(of: "n3", seenBy: observer)
            #expect(
                transitions == ["nil->up", "up->suspect", "suspect->down", "down->removed"]
                    || transitions == ["nil->up", "up->down", "down->removed"],
                "\(observer): \(transitions)"
            )
        }
        #expect(network.eventChainViolation() == nil)
        #expect(!network.machine("n1").isRemoved(MemberID(node: "n3", incarnation: 2)))
        #expect(network.machine("n1").isRemoved(MemberID(node: "n3", incarnation: 1)))
    }

    @Test("a crashed member in another region is detected within the round-trip-scaled bound")
    func crossRegionCrashTiming() {
        let roundTrip: @Sendable (String, String) -> Duration = { a, b in a == b ? .zero : .milliseconds(140) }
        var network = SimulatedNetwork(
            oneWay: { a, b in a == b ? .milliseconds(1) : .milliseconds(70) },
            knownRoundTrip: roundTrip
        )
        network.startCluster([("eu-1", "eu"), ("eu-2", "eu"), ("eu-3", "eu"), ("ap-1", "ap")], seed: "eu-1")
        network.run(for: .milliseconds(10))
        let crashedAt = network.now
        network.crash("ap-1")

        let down = network.run(for: .seconds(10)) { network in
            ["eu-1", "eu-2", "eu-3"].allSatisfy { network.status(of: "ap-1", seenBy: $0) == .down }
        }

        #expect(down)
        let configuration = network.configuration
        let rtt = Duration.milliseconds(140)
        let observers = ["eu-1", "eu-2", "eu-3"]
        let firstSuspectFound = observers.compactMap { network.firstTime("ap-1", became: .suspect, seenBy: $0) }.min()
        let firstSuspect = try! #require(firstSuspectFound)
        let firstDownFound = observers.compactMap { network.firstTime("ap-1", became: .down, seenBy: $0) }.min()
        let firstDown = try! #require(firstDownFound)
        #expect(firstSuspect - crashedAt >= configuration.probeFailureTime(roundTrip: rtt))
        #expect(firstDown - firstSuspect >= configuration.suspicionTimeout(roundTrip: rtt))
        #expect(firstDown - firstSuspect <= configuration.suspicionTimeout(roundTrip: rtt) + network.tickInterval)
        #expect(
            firstDown - crashedAt <= configuration.detectionBound(memberCount: 4, roundTrip: rtt) + network.tickInterval
                * 2
        )
        #expect(network.eventChainViolation() == nil)
    }

    @Test("a falsely suspected member refutes with a higher generation and stays up")
    func refutation() {
        var network = SimulatedNetwork()
        let nodes = (1...5).map { (node: "n\($0)", region: "eu") }
        network.startCluster(nodes, seed: "n1")
        let windowStart = network.now
        // Pings to n5 are late for a while (a GC pause, a busy event loop): long enough for
        // a probe to fail, far shorter than the suspicion timeout.
        network.interceptor = { envelope in
            guard envelope.to == SimulatedNetwork.address("n5"), case .ping = envelope.message,
                envelope.sentAt < windowStart + .milliseconds(1200)
            else { return .deliver }
            return .delay(.milliseconds(600))
        }

        network.run(for: .seconds(10))

        let observers = nodes.map(\.node).filter { $0 != "n5" }
        let suspicions = observers.filter { network.firstTime("n5", became: .suspect, seenBy: $0) != nil }
        #expect(!suspicions.isEmpty, "the delay must cause a suspicion for this test to mean anything")
        for observer in observers {
            #expect(network.firstTime("n5", became: .down, seenBy: observer) == nil)
            #expect(network.status(of: "n5", seenBy: observer) == .up)
            #expect(network.machine(observer).member(node: "n5")!.generation >= 1)
        }
        #expect(network.machine("n5").myself.generation >= 1)
        #expect(network.transitions(of: "n5", seenBy: "n5") == ["joining->up"], "refuting is not a status change")
        #expect(network.eventChainViolation() == nil)
    }

    /// eu, us and ap with the topology's one-way latencies 40/70/110 ms.
    static func oneWay(_ a: String, _ b: String) -> Duration {
        if a == b { return .milliseconds(1) }
        switch Set([a, b]) {
        case ["eu", "us"]: return .milliseconds(40)
        case ["eu", "ap"]: return .milliseconds(70)
        default: return .milliseconds(110)
        }
    }

    static let multiRegion: [(node: String, region: String)] = [
        ("eu-1", "eu"), ("eu-2", "eu"), ("eu-3", "eu"),
        ("us-1", "us"), ("us-2", "us"),
        ("ap-1", "ap"), ("ap-2", "ap"), ("ap-3", "ap"),
    ]

    static func region(of address: String) -> String {
        String(SimulatedNetwork.node(at: address).prefix(2))
    }

    static func slowEuApNetwork(knownRoundTrip: @escaping @Sendable (String, String) -> Duration) -> SimulatedNetwork {
        var network = SimulatedNetwork(oneWay: oneWay, knownRoundTrip: knownRoundTrip)
        network.startCluster(multiRegion, seed: "eu-1")
        // eu↔ap round trip becomes 2·(70+100) = 340 ms: over the in-region ping timeout and
        // even the whole 300 ms in-region probe period, under the 250 + 140 ms scaled timeout.
        network.interceptor = { envelope in
            Set([region(of: envelope.from), region(of: envelope.to)]) == ["eu", "ap"]
                ? .delay(.milliseconds(100)) : .deliver
        }
        return network
    }

    @Test("a slow cross-region link (slower than the in-region timeout) causes no suspicion")
    func slowCrossRegionLink() {
        var network = Self.slowEuApNetwork { a, b in Self.oneWay(a, b) * 2 - (a == b ? .milliseconds(2) : .zero) }
        let value1 = network.everyoneSees(Dictionary(uniqueKeysWithValues: Self.multiRegion.map { ($0.node, .up) }))
        #expect(value1)
        let before = network.observations.count

        network.run(for: .seconds(30))

        let after = network.observations.dropFirst(before)
        #expect(after.isEmpty, "\(Array(after))")
    }

    @Test("control: the same slow link without round-trip scaling does cause suspicions")
    func slowCrossRegionLinkWithoutScaling() {
        var network = Self.slowEuApNetwork { _, _ in .zero }
        let before = network.observations.count

        network.run(for: .seconds(30))

        let suspicions = network.observations.dropFirst(before).filter { $0.change.current == .suspect }
        #expect(!suspicions.isEmpty)
    }

    @Test("one broken link does not make either end suspect: helpers in the target's region vouch")
    func brokenSingleLink() {
        var network = SimulatedNetwork(oneWay: Self.oneWay) { a, b in
            Self.oneWay(a, b) * 2 - (a == b ? .milliseconds(2) : .zero)
        }
        network.startCluster(Self.multiRegion, seed: "eu-1")
        let before = network.observations.count
        let cut: Set<String> = [SimulatedNetwork.address("eu-1"), SimulatedNetwork.address("ap-1")]
        network.interceptor = { envelope in
            cut.contains(envelope.from) && cut.contains(envelope.to) ? .drop : .deliver
        }

        network.run(for: .seconds(30))

        #expect(network.observations.count == before, "\(Array(network.observations.dropFirst(before)))")
        // Meaningful only if the probes over the cut link did go indirect, through ap.
        let requests = network.sentMessages.filter {
            if case .pingRequest(_, let target, _, _) = $0.message {
                return target.node == "ap-1" && $0.from.hasPrefix("eu-1")
            }
            return false
        }
        #expect(!requests.isEmpty)
        // Every such probe asked both other ap members (the third helper comes from elsewhere).
        let helpersBySequence = Dictionary(grouping: requests) { envelope -> UInt64 in
            if case .pingRequest(let sequence, _, _, _) = envelope.message { return sequence }
            return 0
        }
        for (_, envelopes) in helpersBySequence {
            let helpers = Set(envelopes.map { SimulatedNetwork.node(at: $0.to) })
            #expect(helpers.isSuperset(of: ["ap-2", "ap-3"]) && helpers.count == 3, "\(helpers)")
        }
    }

    @Test("a transport hint probes at once but does not skip the indirect probes")
    func peerUnreachableHint() {
        var network = SimulatedNetwork()
        network.startCluster(Self.inRegion, seed: "n1")
        let cut: Set<String> = [SimulatedNetwork.address("n1"), SimulatedNetwork.address("n3")]
        network.interceptor = { cut.contains($0.from) && cut.contains($0.to) ? .drop : .deliver }
        let sentBefore = network.sentMessages.count

        network.peerUnreachable("n1", target: "n3")

        let hinted = network.sentMessages.dropFirst(sentBefore)
        #expect(hinted.map(\.message.kind) == ["ping"])
        #expect(hinted.first?.to == SimulatedNetwork.address("n3"))
        network.run(for: .seconds(5))
        #expect(network.everyoneSees(["n1": .up, "n2": .up, "n3": .up]))
    }

    @Test("a member partitioned away long enough is declared down; when it hears again it learns it is dead")
    func partitionedMemberLearnsItIsDead() {
        var network = SimulatedNetwork()
        network.startCluster(Self.inRegion, seed: "n1")
        var partitioned = true
        let isolated = SimulatedNetwork.address("n3")
        network.interceptor = { envelope in
            partitioned && (envelope.from == isolated || envelope.to == isolated) ? .drop : .deliver
        }
        network.run(for: .seconds(6))
        #expect(network.status(of: "n3", seenBy: "n1") == .down)
        #expect(network.machine("n3").myself.status == .up, "it saw the others die, not itself")

        partitioned = false
        let learnt = network.run(for: .seconds(3)) { $0.machine("n3").myself.status == .down }
        #expect(learnt, "the seed answers its join with its verdict")

        // The driver restarts a dead member with a new incarnation; it joins again.
        network.restart("n3", incarnation: 2, seeds: ["n1"])
        let rejoined = network.run(for: .seconds(5)) {
            $0.machine("n1").member(node: "n3")?.id.incarnation == 2
                && $0.everyoneSees(["n1": .up, "n2": .up, "n3": .up])
        }
        #expect(rejoined)
    }

    /// Whenever the link of an isolated member heals — before, while or after each side
    /// declared the other down — only the isolated member goes down: what it concluded alone
    /// (every other member down) never takes down the members that went on without it.
    @Test("a member cut off from everyone never takes the others down when it comes back", arguments: [
        (["n1": "eu", "n2": "eu", "n3": "eu"] as [String: String], "n3"),
        (["eu-1": "eu", "eu-2": "eu", "us-1": "us", "us-2": "us"], "eu-2"),
    ])
    func anIsolatedMemberNeverTakesTheOthersDown(members: [String: String], isolatedNode: String) {
        let others = members.keys.filter { $0 != isolatedNode }.sorted()
        var healTimes: [Duration] = []
        for step in 0...100 { healTimes.append(.milliseconds(2000 + 60 * step)) }
        for healAfter in healTimes {
            var network = SimulatedNetwork()
            network.startCluster(members.sorted { $0.key < $1.key }.map { (node: $0.key, region: $0.value) }, seed: others[0])
            let isolated = SimulatedNetwork.address(isolatedNode)
            let cutUntil = network.now + healAfter
            network.interceptor = { envelope in
                envelope.sentAt < cutUntil && (envelope.from == isolated || envelope.to == isolated) ? .drop : .deliver
            }
            network.run(for: healAfter + .seconds(12))
            for node in others {
                #expect(network.machine(node).myself.status == .up, "healed after \(healAfter): \(node) was taken down")
            }
            // And the isolated member ends consistent with the rest: back up for everyone (a
            // short cut), or told it is down (a new incarnation of it would join).
            let isolatedStatus = network.machine(isolatedNode).myself.status
            let consistent = isolatedStatus == .up
                ? others.allSatisfy { network.status(of: isolatedNode, seenBy: $0) == .up }
                : others.allSatisfy { network.status(of: isolatedNode, seenBy: $0) != .up }
            #expect(consistent, "healed after \(healAfter): \(isolatedNode) is \(isolatedStatus) for itself, \(others.map { "\($0): \(network.status(of: isolatedNode, seenBy: $0).map { "\($0)" } ?? "removed")" })")
        }
    }
}
