import MeridianMembership
import Testing

/// A deterministic in-memory network of `SWIMStateMachine`s on a mock clock.
///
/// Every node is ticked every `tickInterval`; messages are delivered after the one-way
/// latency between the two nodes' regions, in send order for equal delivery times. A test
/// can crash nodes (everything to and from them is dropped) or intercept messages to drop
/// or delay them.
struct SimulatedNetwork: CustomTestStringConvertible {
    enum Fate {
        case deliver
        case drop
        case delay(Duration)
    }

    struct Envelope {
        var sentAt: SWIMInstant
        var deliverAt: SWIMInstant
        var order: UInt64
        var from: String
        var to: String
        var message: SWIMMessage
    }

    struct Node {
        var machine: SWIMStateMachine
        var region: String
        var crashed = false
    }

    struct Observation: CustomStringConvertible {
        var time: SWIMInstant
        var observer: String
        /// Which process lifetime of `observer` saw it.
        var observerID: MemberID
        var change: MembershipChange

        var description: String { "\(time) \(observer): \(change)" }
    }

    static let port = ":7946"
    static func address(_ node: String) -> String { node + port }
    static func node(at address: String) -> String { String(address.dropLast(port.count)) }

    let tickInterval: Duration = .milliseconds(50)
    private(set) var now = SWIMInstant.zero
    private var nextTick = SWIMInstant.zero
    private(set) var nodes: [String: Node] = [:]
    private var inFlight: [Envelope] = []
    private var order: UInt64 = 0
    /// Simulated one-way delay between two regions (the network's truth).
    var oneWay: (String, String) -> Duration
    /// What the machines are told about round trips (the topology's latency table).
    var knownRoundTrip: @Sendable (String, String) -> Duration
    var configuration: SWIMConfiguration
    var interceptor: ((Envelope) -> Fate)?
    private(set) var observations: [Observation] = []
    private(set) var sentMessages: [Envelope] = []

    init(
        configuration: SWIMConfiguration = SWIMConfiguration(),
        oneWay: @escaping (String, String) -> Duration = { a, b in a == b ? .milliseconds(1) : .milliseconds(40) },
        knownRoundTrip: @escaping @Sendable (String, String) -> Duration = { _, _ in .zero }
    ) {
        self.configuration = configuration
        self.oneWay = oneWay
        self.knownRoundTrip = knownRoundTrip
    }

    /// Keeps failed expectations readable.
    var testDescription: String {
        "network at \(now)"
    }

    // MARK: - Nodes

    mutating func add(
        _ node: String,
        region: String = "eu",
        incarnation: UInt64 = 1,
        configuration: SWIMConfiguration? = nil
    ) {
        let myself = MemberUpdate(
            id: MemberID(node: node, incarnation: incarnation),
            region: region,
            address: Self.address(node),
            status: .joining
        )
        let machine = SWIMStateMachine(
            myself: myself,
            configuration: configuration ?? self.configuration,
            roundTrip: knownRoundTrip,
            now: now,
            seed: Self.seed(for: "\(node)#\(incarnation)")
        )
        nodes[node] = Node(machine: machine, region: region)
    }

    mutating func join(_ node: String, seeds: [String], selfIsSeed: Bool = false) {
        let directives = nodes[node]!.machine.join(seeds: seeds.map(Self.address), selfIsSeed: selfIsSeed, now: now)
        route(directives, from: node)
    }

    /// Adds every node and joins it through `seed` (which starts alone), then runs until
    /// all are up everywhere.
    mutating func startCluster(_ members: [(node: String, region: String)], seed: String) {
        for member in members { add(member.node, region: member.region) }
        join(seed, seeds: [])
        for member in members where member.node != seed { join(member.node, seeds: [seed]) }
        run(for: .seconds(3))
    }

    mutating func crash(_ node: String) {
        nodes[node]!.crashed = true
    }

    /// A new process with a larger incarnation at the same address.
    mutating func restart(_ node: String, incarnation: UInt64, seeds: [String]) {
        let region = nodes[node]!.region
        add(node, region: region, incarnation: incarnation)
        join(node, seeds: seeds)
    }

    mutating func leave(_ node: String) {
        let directives = nodes[node]!.machine.leave(now: now)
        route(directives, from: node)
    }

    mutating func peerUnreachable(_ node: String, target: String) {
        let id = nodes[target]!.machine.myself.id
        let directives = nodes[node]!.machine.peerUnreachable(id, now: now)
        route(directives, from: node)
    }

    func machine(_ node: String) -> SWIMStateMachine { nodes[node]!.machine }

    func status(of target: String, seenBy observer: String) -> MemberStatus? {
        nodes[observer]!.machine.member(node: target)?.status
    }

    /// Whether every running node sees exactly `expected` (node → status), no more members.
    func everyoneSees(_ expected: [String: MemberStatus]) -> Bool {
        nodes.filter { !$0.value.crashed }.allSatisfy { _, node in
            let seen = node.machine.members
            return seen.count == expected.count && seen.allSatisfy { expected[$0.id.node] == $0.status }
        }
    }

    func changes(of target: String, seenBy observer: String) -> [Observation] {
        observations.filter { $0.observer == observer && $0.change.member.id.node == target }
    }

    func transitions(of target: String, seenBy observer: String) -> [String] {
        changes(of: target, seenBy: observer).map { "\($0.change.previous?.rawValue ?? "nil")->\($0.change.current)" }
    }

    /// First time `observer` saw `target` reach `status`, if ever.
    func firstTime(_ target: String, became status: MemberStatus, seenBy observer: String) -> SWIMInstant? {
        changes(of: target, seenBy: observer).first { $0.change.current == status }?.time
    }

    /// The first inconsistency in the observed events, if any: for every process lifetime,
    /// the changes of each member incarnation must form one chain (each starts where the
    /// previous ended, none repeats a status), and a running node's chain must end in its
    /// current view.
    func eventChainViolation() -> String? {
        var chains: [MemberID: [MemberID: MemberStatus]] = [:]
        for observation in observations {
            let change = observation.change
            let observer = observation.observerID
            // A node starts joining without an event.
            let expected = chains[observer]?[change.member.id] ?? (change.member.id == observer ? .joining : nil)
            guard change.previous != change.current, change.member.status == change.current,
                expected == change.previous
            else { return "\(observation) does not follow \(expected.map(\.rawValue) ?? "nothing")" }
            chains[observer, default: [:]][change.member.id] = change.current
        }
        for (name, node) in nodes where !node.crashed {
            let myself = node.machine.myself
            let chain = chains[myself.id] ?? [:]
            guard (chain[myself.id] ?? .joining) == myself.status else { return "\(name) itself" }
            for member in node.machine.members where member.id != myself.id {
                guard chain[member.id] == member.status else {
                    return "\(name): \(member) but events say \(String(describing: chain[member.id]))"
                }
            }
            for (id, status) in chain where id != myself.id && status != .removed {
                guard node.machine.member(node: id.node)?.id == id else { return "\(name): \(id) still \(status)" }
            }
        }
        return nil
    }

    // MARK: - Running

    mutating func run(for duration: Duration) {
        run(until: now + duration)
    }

    mutating func run(until end: SWIMInstant) {
        while true {
            let next = inFlight.indices.min { lhs, rhs in
                (inFlight[lhs].deliverAt, inFlight[lhs].order) < (inFlight[rhs].deliverAt, inFlight[rhs].order)
            }
            if let next, inFlight[next].deliverAt <= nextTick, inFlight[next].deliverAt <= end {
                let envelope = inFlight.remove(at: next)
                now = envelope.deliverAt
                deliver(envelope)
            } else if nextTick <= end {
                now = nextTick
                nextTick += tickInterval
                for name in nodes.keys.sorted() where !nodes[name]!.crashed {
                    let directives = nodes[name]!.machine.tick(now: now)
                    route(directives, from: name)
                }
            } else {
                now = end
                return
            }
        }
    }

    /// Runs until `condition` holds, at most `limit`; returns whether it held.
    @discardableResult
    mutating func run(for limit: Duration, until condition: (Self) -> Bool) -> Bool {
        let end = now + limit
        while now < end {
            if condition(self) { return true }
            run(until: min(now + tickInterval, end))
        }
        return condition(self)
    }

    private mutating func deliver(_ envelope: Envelope) {
        let receiver = Self.node(at: envelope.to)
        let sender = Self.node(at: envelope.from)
        guard let node = nodes[receiver], !node.crashed, nodes[sender]?.crashed != true else { return }
        let directives = nodes[receiver]!.machine.receive(envelope.message, from: envelope.from, now: now)
        route(directives, from: receiver)
    }

    private mutating func route(_ directives: [SWIMDirective], from sender: String) {
        for directive in directives {
            switch directive {
            case .changed(let change):
                observations.append(
                    Observation(
                        time: now,
                        observer: sender,
                        observerID: nodes[sender]!.machine.myself.id,
                        change: change
                    )
                )
            case .send(let message, _, let address):
                let receiver = Self.node(at: address)
                guard let target = nodes[receiver] else { continue }
                order += 1
                var envelope = Envelope(
                    sentAt: now,
                    deliverAt: now + oneWay(nodes[sender]!.region, target.region),
                    order: order,
                    from: Self.address(sender),
                    to: address,
                    message: message
                )
                sentMessages.append(envelope)
                switch interceptor?(envelope) ?? .deliver {
                case .deliver:
                    inFlight.append(envelope)
                case .drop:
                    break
                case .delay(let extra):
                    envelope.deliverAt += extra
                    inFlight.append(envelope)
                }
            }
        }
    }

    /// FNV-1a: stable across runs, unlike `Hasher`.
    static func seed(for text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }
}

extension SWIMMessage {
    var kind: String {
        switch self {
        case .join: "join"
        case .joinAck: "joinAck"
        case .ping: "ping"
        case .pingRequest: "pingRequest"
        case .ack: "ack"
        case .nack: "nack"
        case .leave: "leave"
        }
    }
}
