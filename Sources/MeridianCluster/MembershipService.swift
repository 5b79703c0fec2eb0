import Logging
import MeridianMembership
import MeridianTransport
import MeridianWire
import NIOCore
import Synchronization

/// Drives this node's ``SWIMStateMachine``: feeds it the SWIM messages that arrive, ticks it
/// every `tickInterval`, sends what it says to send, and publishes membership changes.
///
/// The state machine does all the reasoning; this type only does I/O, so every rule of
/// membership is tested on a mock clock in MeridianMembershipTests.
public final class MembershipService: Sendable {
    /// The status of a node as far as remote calls are concerned.
    enum Reachability {
        case reachable(address: String)
        case down
        case unknown
    }

    private struct State {
        var machine: SWIMStateMachine
        var ticker: RepeatedTask?
        /// Set when this node began leaving on purpose (its own `removed` is then no surprise).
        var leaving = false
        /// Set when this node left while its own incarnation was already terminal: the cluster
        /// had declared it down first (its leave is the consequence, not the cause).
        var declaredDownBeforeLeaving = false
    }

    private let state: Mutex<State>
    /// When a membership message last came from another node (see ``silence``).
    private let lastHeard = Mutex<SWIMInstant?>(nil)
    private let broadcast = Broadcast<MembershipChange>()
    private let origin = NIODeadline.now()
    private let logger: Logger
    private let tickInterval: TimeAmount = .milliseconds(50)
    /// Addresses of nodes by id for those membership has not heard of (see
    /// ``Configuration/knownAddresses``; tools add what a member told them, ``learnAddresses(_:)``).
    private let knownAddresses: Mutex<[String: String]>
    private let system = Mutex<ClusterSystemReference?>(nil)

    init(configuration: ClusterSystem.Configuration, logger: Logger) {
        let myself = MemberUpdate(
            id: MemberID(node: configuration.node, incarnation: configuration.incarnation),
            region: configuration.region,
            address: configuration.advertisedAddress ?? "",
            status: .joining
        )
        let latency = configuration.oneWayLatency
        let machine = SWIMStateMachine(
            myself: myself,
            configuration: configuration.membership,
            roundTrip: { latency($0, $1) * 2 },
            now: .zero,
            seed: configuration.incarnation
        )
        self.state = Mutex(State(machine: machine))
        self.logger = logger
        self.knownAddresses = Mutex(configuration.knownAddresses)
    }

    func attach(_ system: ClusterSystem) {
        self.system.withLock { $0 = ClusterSystemReference(system: system) }
    }

    var currentInstant: SWIMInstant { now }

    private var now: SWIMInstant {
        SWIMInstant(nanoseconds: UInt64(max(0, (NIODeadline.now() - origin).nanoseconds)))
    }

    /// Joins through `seeds` and starts the failure detector.
    func start(seeds: [String]) async {
        guard let system = system.withLock({ $0?.system }) else { return }
        let ticker = system.group.next().scheduleRepeatedTask(initialDelay: tickInterval, delay: tickInterval) { [weak self] _ in
            guard let self else { return }
            self.apply(self.state.withLock { $0.machine.tick(now: self.now) })
        }
        let directives = state.withLock { state in
            state.ticker = ticker
            return state.machine.join(seeds: seeds, now: now)
        }
        apply(directives)
    }

    /// Leaves gracefully: every member hears this node is down; stops the detector.
    func leave() async {
        let (directives, ticker) = state.withLock { state in
            state.declaredDownBeforeLeaving = state.declaredDownBeforeLeaving || (!state.leaving && state.machine.myself.status.isTerminal)
            state.leaving = true
            return (state.machine.leave(now: now), state.ticker)
        }
        ticker?.cancel()
        apply(directives)
        broadcast.finish()
    }

    /// This node as the cluster sees it.
    public var myself: Member { state.withLock { $0.machine.myself } }

    /// Every known member (this node included), down ones until they are removed.
    public var members: [Member] { state.withLock { $0.machine.members } }

    /// How long since this node last received a membership message from another node (nil: it
    /// never did — it has not joined anyone yet).
    public var silence: Duration? {
        let now = now
        guard let last = lastHeard.withLock({ $0 }) else { return nil }
        return .nanoseconds(Int64(now.nanoseconds - min(now.nanoseconds, last.nanoseconds)))
    }

    /// How long the failure detector lets a suspicion of an in-region member go unrefuted.
    public var suspicionTimeout: Duration { state.withLock { $0.machine.configuration.suspicionTimeout } }

    /// Changes from now on, in order. The stream ends when the node leaves.
    public func changes() -> AsyncStream<MembershipChange> {
        broadcast.subscribe()
    }

    /// Returns true when this node learns that the cluster declared it down — its incarnation
    /// failed the failure detector (a pause or a cut-off longer than the suspicion timeout) and
    /// the others already failed over what it ran. SWIM lets no declared-down incarnation back
    /// in: the node must start again as a new incarnation (see `meridian bootstrap`, which exits
    /// for its supervisor to restart it). Returns false when the node leaves on purpose first or
    /// the calling task is cancelled.
    public func declaredDown() async -> Bool {
        let changes = changes()
        if declaredDownNow { return true }
        for await change in changes where change.member.id == state.withLock({ $0.machine.myself.id }) && change.current.isTerminal {
            return declaredDownNow
        }
        return declaredDownNow  // the stream ended: the node left, on purpose or because it learned it
    }

    private var declaredDownNow: Bool {
        // Sticky across the leave that learning it causes: a second watcher that reads after
        // the node began stopping still hears the truth.
        state.withLock { $0.declaredDownBeforeLeaving || (!$0.leaving && $0.machine.myself.status.isTerminal) }
    }

    /// Waits until `predicate` holds for the member list, checking now and on every change.
    /// - Throws: ``ClusterError/Code/timeout`` when it does not hold within `timeout`;
    ///   ``ClusterError/Code/shutdown`` when the node leaves first.
    public func waitUntil(timeout: Duration, _ predicate: @escaping @Sendable ([Member]) -> Bool) async throws {
        let changes = changes()
        let held = try await firstValue(
            of: { [weak self] in predicate(self?.members ?? []) ? true : nil }, checkedOn: changes, timeout: timeout,
            timeoutMessage: { [weak self] in "membership did not reach the expected state within \(timeout): \(self?.members ?? [])" }
        )
        guard held != nil else { throw ClusterError(.shutdown, "the node left before membership reached the expected state") }
    }

    func receive(_ proto: Meridian_Cluster_V1_Swim, from peer: PeerIdentity) {
        guard let message = SWIMMessage(proto: proto) else {
            logger.debug("ignoring SWIM message of unknown kind", metadata: ["meridian.peer": "\(peer)"])
            return
        }
        let now = now
        lastHeard.withLock { $0 = now }
        apply(state.withLock { $0.machine.receive(message, from: peer.address, now: now) })
    }

    /// Whether `incarnation` of `node` (0: its current one) was declared down, removed or
    /// replaced by a newer one. False for a node this one never heard of: it is not known to be down.
    public func isDeclaredDown(node: String, incarnation: UInt64 = 0) -> Bool {
        if case .down = reachability(node: node, incarnation: incarnation) { return true }
        return false
    }

    /// Adds the addresses of nodes this one may call without hearing of them through gossip:
    /// a tool outside the membership learns them from a member's table (a node added since its
    /// topology file was written). Known addresses are kept.
    public func learnAddresses(_ addresses: [String: String]) {
        knownAddresses.withLock { known in known.merge(addresses) { current, _ in current } }
    }

    func reachability(node: String, incarnation: UInt64) -> Reachability {
        let member = state.withLock { $0.machine.member(node: node) }
        guard let member else {
            if let address = knownAddresses.withLock({ $0[node] }) { return .reachable(address: address) }
            return .unknown
        }
        if incarnation == 0 {  // "whichever incarnation is current" (admin tools)
            return member.status.isTerminal ? .down : .reachable(address: member.address)
        }
        if member.id.incarnation > incarnation { return .down }
        if member.id.incarnation == incarnation, member.status.isTerminal { return .down }
        return .reachable(address: member.address)
    }

    private func apply(_ directives: [SWIMDirective]) {
        guard !directives.isEmpty, let system = system.withLock({ $0?.system }) else { return }
        for directive in directives {
            switch directive {
            case .send(let message, let to, let address):
                var envelope = Envelope()
                envelope.swim = message.proto
                // Best effort: SWIM tolerates loss, so a full queue or a failed dial is not an error.
                try? system.send(envelope, to: to?.node, address: address)
            case .changed(let change):
                publish(change, system: system)
            }
        }
    }

    private func publish(_ change: MembershipChange, system: ClusterSystem) {
        let member = change.member
        let metadata: Logger.Metadata = [
            "meridian.member": "\(member.id)",
            "meridian.member.region": "\(member.region)",
            "meridian.status": "\(change.current.rawValue)",
        ]
        switch change.current {
        case .up, .down, .removed: logger.info("member \(change.current.rawValue)", metadata: metadata)
        case .joining, .suspect: logger.debug("member \(change.current.rawValue)", metadata: metadata)
        }
        if change.current.isTerminal, member.id.node != system.nodeID || member.id.incarnation != system.incarnation {
            system.memberDown(node: member.id.node, incarnation: member.id.incarnation)
            system.receptionist.memberGone(node: member.id.node, incarnation: member.id.incarnation)
        }
        broadcast.yield(change)
    }
}

/// The system owns the service; the service refers back weakly to avoid a cycle.
struct ClusterSystemReference: Sendable {
    weak var system: ClusterSystem?
}
