/// SWIM membership (ping, indirect ping through helpers, suspicion with refutation, infection
/// style gossip) as a value type that does no I/O and reads no clock.
///
/// The driver owns the sockets and a timer. It calls `join` once, `receive` for every
/// membership message, `tick` every ~50 ms, and carries out the returned directives in
/// order. Tests drive the same machine with numbers for time and an in-memory network.
///
/// Rules worth knowing before reading the code:
/// - A node starts `joining`. It becomes `up` when a member accepts it (a `joinAck`, or any
///   gossip that shows it `up`), or, for a seed, when it accepts another node's `join`, or
///   when `join(seeds:)` has no seed but itself, or, for a seed, after two
///   `joinRetryInterval`s without hearing from another seed (first node of a cluster);
///   see `join(seeds:selfIsSeed:now:)`.
/// - Updates about the same incarnation follow `MemberUpdate.supersedes`: a `down` is
///   final. If `myself` becomes `down` without `leave()`, the cluster has declared this
///   incarnation dead: the driver should start a new instance with a larger incarnation.
/// - A larger incarnation of a known node replaces the old one (old → `down` → `removed`,
///   then the new one appears); a smaller one is stale and ignored, and so is any update
///   about a `removed` incarnation.
public struct SWIMStateMachine: Sendable {
    public let configuration: SWIMConfiguration
    let roundTrip: @Sendable (String, String) -> Duration

    var me: Member
    /// Every other known member by node id: one incarnation per node.
    var others: [String: MemberState] = [:]
    var nodeByAddress: [String: String] = [:]
    /// The last removed incarnation of each node, as a `down` update: stale gossip about it
    /// is ignored, and a zombie that still talks to us is told it is down.
    var tombstones: [String: MemberUpdate] = [:]
    var gossipQueue: [String: PendingGossip] = [:]
    var probes: [UInt64: Probe] = [:]
    var relays: [UInt64: Relay] = [:]
    var probeOrder: [String] = []
    var probeCursor = 0
    var nextProbeAt: SWIMInstant?
    var joining = JoinState()
    var lastSequence: UInt64 = 0
    var random: DeterministicRandom
    /// Lifeguard's local health: how many recent probes of this member went unanswered with no
    /// word from any helper either (0 ... `configuration.maxLocalHealth`). A member whose every
    /// probe goes unanswered is more likely cut off itself than surrounded by dead members:
    /// each point adds one `suspicionTimeout` before it declares anyone down, so the members
    /// that can still talk to each other decide first (see ``localHealth``).
    var health = 0

    /// - Parameters:
    ///   - myself: this node; its status is ignored (a node always starts `joining`).
    ///   - roundTrip: known network round trip between two regions, zero in-region; scales
    ///     every cross-region timeout.
    ///   - seed: seeds the PRNG behind probe order and helper choice, for reproducible tests.
    public init(
        myself: MemberUpdate,
        configuration: SWIMConfiguration = SWIMConfiguration(),
        roundTrip: @escaping @Sendable (String, String) -> Duration = { _, _ in .zero },
        now: SWIMInstant,
        seed: UInt64
    ) {
        self.configuration = configuration
        self.roundTrip = roundTrip
        self.me = Member(
            id: myself.id,
            region: myself.region,
            address: myself.address,
            status: .joining,
            generation: myself.generation
        )
        self.random = DeterministicRandom(seed: seed)
    }

    // MARK: - Reading

    /// This node as the cluster should see it.
    public var myself: Member { me }

    /// Every known member including this node and `down` members not yet removed, by node id.
    public var members: [Member] {
        ([me] + others.values.map(\.member)).sorted { $0.id.node < $1.id.node }
    }

    public func member(node: String) -> Member? {
        node == me.id.node ? me : others[node]?.member
    }

    /// Members (this node included) currently `up`, by node id.
    public var upMembers: [Member] {
        members.filter { $0.status == .up }
    }

    /// Whether `id` is a removed incarnation (or older than one).
    public func isRemoved(_ id: MemberID) -> Bool {
        guard let tombstone = tombstones[id.node] else { return false }
        return id.incarnation <= tombstone.id.incarnation
    }

    // MARK: - Driving

    /// Every message from another node. `address` must be the sender's cluster listener
    /// address (as announced in its handshake): replies go there.
    public mutating func receive(_ message: SWIMMessage, from address: String, now: SWIMInstant) -> [SWIMDirective] {
        var out: [SWIMDirective] = []
        if wasCutOff(hearingFrom: address, message: message) {
            // Answering would tell a member the rest of the cluster kept up that it is down.
            setMyStatus(.down, now: now, into: &out)
            return out
        }
        switch message {
        case .join(let update):
            handleJoin(update, from: address, now: now, into: &out)
        case .joinAck(let members):
            handleJoinAck(members, from: address, now: now, into: &out)
        case .ping(let sequence, let gossip):
            merge(gossip, now: now, into: &out)
            touch(address: address, now: now)
            let sender = recipient(at: address)
            out.append(
                .send(
                    .ack(sequence: sequence, target: me.id, gossip: gossipPayload(for: sender?.node)),
                    to: sender,
                    address: address
                )
            )
        case .pingRequest(let sequence, let target, let targetAddress, let gossip):
            merge(gossip, now: now, into: &out)
            touch(address: address, now: now)
            handlePingRequest(
                sequence: sequence,
                target: target,
                targetAddress: targetAddress,
                from: address,
                now: now,
                into: &out
            )
        case .ack(let sequence, let target, let gossip):
            merge(gossip, now: now, into: &out)
            touch(address: address, now: now)
            handleAck(sequence: sequence, target: target, now: now, into: &out)
        case .nack(let sequence, _, let gossip):
            // Only proves the helper alive; the probe still waits for other helpers.
            probes[sequence]?.heardFromHelper = true
            merge(gossip, now: now, into: &out)
            touch(address: address, now: now)
        case .leave(var update):
            update.status = .down
            merge(update, now: now, into: &out)
            touch(address: address, now: now)
        }
        return out
    }

    /// Whether this member was the one cut off: it holds every other member down or suspect
    /// (none `up`), and a member it declared down talks to it — that member is alive, so the
    /// verdicts were this member's alone, reached while nothing reached it. It must not answer
    /// with its verdict (that would take down a member the cluster kept up — each side of a
    /// healed cut declares the other down at about the same time, and whichever verdict lands
    /// first wins): it steps down instead, and its driver starts it again as a new incarnation.
    /// With a single other member there is no third party to tell the two sides apart: then the
    /// member declared down is told so, as before (a paused node resuming must not take down the
    /// one that kept running).
    private func wasCutOff(hearingFrom address: String, message: SWIMMessage) -> Bool {
        guard me.status == .up, Set(others.keys).union(tombstones.keys).count >= 2 else { return false }
        let gossip: [MemberUpdate]
        switch message {
        case .ping(_, let updates), .pingRequest(_, _, _, let updates), .ack(_, _, let updates), .nack(_, _, let updates):
            gossip = updates
        case .join, .joinAck, .leave:
            return false  // a new incarnation joining, or leaving: not a member we declared down
        }
        guard let sender = recipient(at: address),
              others[sender.node].map({ $0.member.id == sender && $0.member.status == .down }) ?? isRemoved(sender),
              !others.values.contains(where: { $0.member.status == .up })
        else { return false }
        // A restarted node (a newer incarnation at the same address) is not the member we declared down.
        return !gossip.contains { $0.id.node == sender.node && $0.id.incarnation > sender.incarnation }
    }

    /// This member's local health score (0: healthy; see ``SWIMConfiguration/maxLocalHealth``).
    public var localHealth: Int { health }

    /// Call every ~50 ms; every deadline is observed at the first tick at or after it.
    public mutating func tick(now: SWIMInstant) -> [SWIMDirective] {
        var out: [SWIMDirective] = []
        tickJoin(now: now, into: &out)
        if me.status == .up {
            checkProbes(now: now, into: &out)
        }
        expireSuspicions(now: now, into: &out)
        removeExpired(now: now, into: &out)
        checkRelays(now: now, into: &out)
        if me.status == .up {
            startScheduledProbe(now: now, into: &out)
        }
        return out
    }

    /// Graceful leave: this node is `down` from now on and tells every live member directly
    /// (and through gossip, in case those messages are lost). The driver may stop once the
    /// sends are flushed; the others remove it after `removalDelay`.
    public mutating func leave(now: SWIMInstant) -> [SWIMDirective] {
        guard !me.status.isTerminal else { return [] }
        var out: [SWIMDirective] = []
        setMyStatus(.down, now: now, into: &out)
        for member in others.values.map(\.member).sorted(by: { $0.id.node < $1.id.node })
        where !member.status.isTerminal {
            out.append(.send(.leave(me.update), to: member.id, address: member.address))
        }
        return out
    }

    /// A hint from the transport (connection refused or reset, heartbeat missed): probe the
    /// member now instead of waiting for its turn. Not a verdict: a single broken link must
    /// not make a member suspect, so the probe still goes through helpers before suspicion.
    public mutating func peerUnreachable(_ id: MemberID, now: SWIMInstant) -> [SWIMDirective] {
        guard me.status == .up, let state = others[id.node], state.member.id == id,
            state.member.status == .up || state.member.status == .suspect,
            !isBeingProbed(id.node)
        else { return [] }
        var out: [SWIMDirective] = []
        startProbe(of: id.node, now: now, into: &out)
        return out
    }

    // MARK: - Helpers shared by the extensions

    mutating func nextSequence() -> UInt64 {
        lastSequence &+= 1
        return lastSequence
    }

    func roundTrip(toRegion region: String) -> Duration {
        roundTrip(me.region, region)
    }

    /// Who listens at `address`: a current member, else a removed incarnation (so that a
    /// zombie can be told it is down).
    func recipient(at address: String) -> MemberID? {
        if let node = nodeByAddress[address], let state = others[node] { return state.member.id }
        return tombstones.values.filter { $0.address == address }.max { $0.id.incarnation < $1.id.incarnation }?.id
    }

    mutating func touch(address: String, now: SWIMInstant) {
        guard let node = nodeByAddress[address] else { return }
        others[node]?.member.lastSeen = now
    }
}

extension SWIMStateMachine: CustomStringConvertible {
    /// One line for logs: ourselves, then how many members are in each status.
    public var description: String {
        let counts = Dictionary(grouping: others.values, by: \.member.status).mapValues(\.count)
        let summary = MemberStatus.allCases.compactMap { status in counts[status].map { "\($0) \(status)" } }
        return "SWIM(\(me); \(summary.isEmpty ? "alone" : summary.joined(separator: ", ")))"
    }
}

/// A known member plus the timers that drive its next transition.
struct MemberState: Sendable {
    var member: Member
    var suspicionDeadline: SWIMInstant?
    var removalDeadline: SWIMInstant?
}

struct PendingGossip: Sendable {
    var update: MemberUpdate
    var transmissions: Int
}

/// One of our own probes.
struct Probe: Sendable {
    var target: MemberID
    var directDeadline: SWIMInstant
    /// Set when the helpers are asked; the probe fails when it passes.
    var finalDeadline: SWIMInstant?
    /// Whether a helper answered (ack or nack): this member's links work, the target's may not.
    var heardFromHelper = false
    /// Whether any helper was asked to probe the target.
    var helpersAsked = false
}

/// A probe we run on behalf of another member (`pingRequest`).
struct Relay: Sendable {
    var requester: MemberID?
    var requesterAddress: String
    var requestSequence: UInt64
    var target: MemberID
    var deadline: SWIMInstant
}

struct JoinState: Sendable {
    /// Seed addresses, our own excluded.
    var seeds: [String] = []
    var isSeed = false
    var startedAt: SWIMInstant?
    var nextAttempt: SWIMInstant?
    /// Seeds an `up` seed sent a `join` to: their `joinAck` is answered with our list, so that
    /// two clusters bootstrapped apart learn each other's members.
    var contacted: Set<String> = []
}
