/// The identity of one process lifetime of a node.
///
/// A node id alone is not enough: a restarted process must not inherit the verdicts about
/// its previous life (a `down` is final), so the driver gives every start a larger
/// `incarnation` (for example the wall-clock start time in milliseconds).
public struct MemberID: Hashable, Sendable, CustomStringConvertible {
    /// Node id from the topology, e.g. `eu-west-1`.
    public var node: String
    /// Process lifetime identity: a restarted node has a larger one.
    public var incarnation: UInt64

    public init(node: String, incarnation: UInt64) {
        self.node = node
        self.incarnation = incarnation
    }

    public var description: String {
        "\(node)#\(incarnation)"
    }
}

/// Lifecycle of a member, in precedence order: for the same member and generation a later
/// status wins over an earlier one (`joining < up < suspect < down < removed`).
public enum MemberStatus: String, Sendable, Comparable, CaseIterable {
    case joining
    case up
    case suspect
    case down
    case removed

    private var rank: Int {
        switch self {
        case .joining: 0
        case .up: 1
        case .suspect: 2
        case .down: 3
        case .removed: 4
        }
    }

    public static func < (lhs: MemberStatus, rhs: MemberStatus) -> Bool {
        lhs.rank < rhs.rank
    }

    /// `down` and `removed` are final for an incarnation.
    public var isTerminal: Bool {
        self >= .down
    }
}

/// One member as this node currently sees it.
public struct Member: Hashable, Sendable, CustomStringConvertible {
    public var id: MemberID
    public var region: String
    /// `host:port` of the member's cluster listener.
    public var address: String
    public var status: MemberStatus
    /// SWIM's incarnation counter, named generation here because `incarnation` already
    /// names the process lifetime: the member itself bumps it to refute a suspicion.
    public var generation: UInt64
    /// Local knowledge, never gossiped: the last time we heard from the member directly.
    public var lastSeen: SWIMInstant?

    public init(
        id: MemberID,
        region: String,
        address: String,
        status: MemberStatus,
        generation: UInt64 = 0,
        lastSeen: SWIMInstant? = nil
    ) {
        self.id = id
        self.region = region
        self.address = address
        self.status = status
        self.generation = generation
        self.lastSeen = lastSeen
    }

    /// What gossip says about this member.
    public var update: MemberUpdate {
        MemberUpdate(id: id, region: region, address: address, status: status, generation: generation)
    }

    public var description: String {
        "\(id)@\(address)[\(region)] \(status) g\(generation)"
    }
}

/// What gossip carries about a member: its `Member` without local knowledge.
public struct MemberUpdate: Hashable, Sendable, CustomStringConvertible {
    public var id: MemberID
    public var region: String
    public var address: String
    public var status: MemberStatus
    public var generation: UInt64

    public init(id: MemberID, region: String, address: String, status: MemberStatus, generation: UInt64 = 0) {
        self.id = id
        self.region = region
        self.address = address
        self.status = status
        self.generation = generation
    }

    /// Whether this update should replace what we know about the same incarnation.
    ///
    /// A `down` wins whatever its generation: once any member confirmed a death, every node
    /// must agree on it, or a member that refuted in time on one side and was confirmed
    /// dead on the other would stay split forever. Otherwise the higher generation wins,
    /// and for equal generations the later status (`joining < up < suspect < down`).
    /// Nothing replaces a terminal status.
    public func supersedes(status knownStatus: MemberStatus, generation knownGeneration: UInt64) -> Bool {
        if knownStatus.isTerminal { return false }
        if status.isTerminal { return true }
        if generation != knownGeneration { return generation > knownGeneration }
        return status > knownStatus
    }

    public var description: String {
        "\(id)@\(address)[\(region)] \(status) g\(generation)"
    }
}

/// A status change of one member, as seen by this node. Every change is reported once.
public struct MembershipChange: Hashable, Sendable, CustomStringConvertible {
    /// The member after the change (`member.status == current`).
    public var member: Member
    /// `nil` when the member was not known before.
    public var previous: MemberStatus?
    public var current: MemberStatus

    public init(member: Member, previous: MemberStatus?, current: MemberStatus) {
        self.member = member
        self.previous = previous
        self.current = current
    }

    public var description: String {
        "\(member.id): \(previous.map(\.rawValue) ?? "unknown") -> \(current)"
    }
}
