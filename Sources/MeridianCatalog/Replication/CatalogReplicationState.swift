/// What a catalog replica knows about its peers and what it should do next — with no I/O and no clock,
/// so every rule is tested without a network (``CatalogReplica`` carries the actions out).
///
/// Rules:
/// - The **leader** — the one node that assigns versions — is the alive member of the primary region
///   with the smallest node id (this node included). "Alive" means up or suspect: a member keeps its role
///   until the failure detector declares it down, so a slow heartbeat does not move leadership.
/// - A publish gets the version one above every version this node has heard of (``nextVersion``), after
///   the leader has asked the other primary-region nodes what they serve and fetched anything newer.
/// - Anti-entropy: every round, a follower asks the leader which catalog it serves and fetches it when it
///   is newer; the leader asks every alive member and pushes to those behind (and fetches from anyone
///   ahead, e.g. after it took over from a leader whose last publish it missed). Without a leader (the
///   primary region unreachable) every node asks every alive member, so the others still converge.
/// - Catalogs are compared by ``CatalogStamp`` (version, then content hash): the larger stamp wins
///   everywhere, so all nodes converge even on two catalogs given the same version by a split region.
package struct CatalogReplicationState: Sendable {
    /// Another member, as membership reports it.
    package struct Peer: Hashable, Sendable, Comparable, CustomStringConvertible {
        package var node: String
        package var incarnation: UInt64
        package var region: String

        package init(node: String, incarnation: UInt64, region: String) {
            self.node = node
            self.incarnation = incarnation
            self.region = region
        }

        package static func < (lhs: Peer, rhs: Peer) -> Bool { lhs.node < rhs.node }
        package var description: String { "\(node)#\(incarnation)" }
    }

    /// Something the replica should do.
    package enum Action: Hashable, Sendable {
        /// Ask the peer which catalog it serves (then report it with ``observed(_:from:)``).
        case query(Peer)
        /// The peer serves a newer catalog: fetch it (then call ``fetchEnded(from:)``).
        case fetch(from: Peer)
        /// The peer serves an older catalog and this node is the leader: push ours to it.
        case push(to: Peer)
    }

    package let node: String
    package let region: String
    package let primaryRegion: String
    /// The catalog this node serves.
    package private(set) var local: CatalogStamp
    /// Alive members other than this node, by node id.
    package private(set) var peers: [String: Peer] = [:]
    /// What each alive peer last said it serves.
    package private(set) var known: [String: CatalogStamp] = [:]
    /// Fetches in flight: peer → the stamp it announced.
    private var fetching: [String: CatalogStamp] = [:]
    /// The last version handed to a publish (which may still be persisting, or may have failed: a
    /// version is never handed out twice, and a failed publish leaves a gap, not a reuse).
    private var reserved: UInt64 = 0

    package init(node: String, region: String, primaryRegion: String, local: CatalogStamp) {
        self.node = node
        self.region = region
        self.primaryRegion = primaryRegion
        self.local = local
    }

    /// The node that assigns versions; `nil` when no member of the primary region is alive.
    package var leader: String? {
        let others = peers.values.lazy.filter { $0.region == self.primaryRegion }.map(\.node).min()
        guard region == primaryRegion else { return others }
        return others.map { Swift.min($0, node) } ?? node
    }

    package var isLeader: Bool { leader == node }

    /// The version the next publish gets: one above every version this node has heard of or
    /// handed out; nil when that would pass `UInt64.max` (a peer announced the last version).
    package var nextVersion: UInt64? {
        let highest = Swift.max(local.version, reserved, known.values.map(\.version).max() ?? 0)
        let (next, overflow) = highest.addingReportingOverflow(1)
        return overflow ? nil : next
    }

    /// Hands ``nextVersion`` to a publish; nil (nothing reserved) when there is none.
    package mutating func reserveVersion() -> UInt64? {
        guard let next = nextVersion else { return nil }
        reserved = next
        return next
    }

    /// Every alive peer: where a publish is pushed.
    package var pushTargets: [Peer] { peers.values.sorted() }

    /// The alive primary-region peers: asked by the leader before it assigns a version.
    package var primaryPeers: [Peer] { peers.values.filter { $0.region == primaryRegion }.sorted() }

    /// Membership changed; `alive` lists every member that is up or suspect (this node may be among them).
    package mutating func membersChanged(_ alive: [Peer]) -> [Action] {
        let previousLeader = leader
        var next: [String: Peer] = [:]
        for peer in alive where peer.node != node { next[peer.node] = peer }
        // What a departed member, or an earlier incarnation of a restarted one, said no longer holds.
        for (name, old) in peers where next[name]?.incarnation != old.incarnation {
            known[name] = nil
        }
        let added = next.values.filter { peers[$0.node]?.incarnation != $0.incarnation }.sorted()
        peers = next
        if isLeader {
            // A member that (re)joined may have missed publishes: check it now rather than next round.
            return added.map { .query($0) }
        }
        if let leader, let peer = peers[leader], leader != previousLeader || added.contains(peer) {
            return [.query(peer)]
        }
        return []
    }

    /// One anti-entropy round: whom to ask which catalog they serve.
    package func round() -> [Action] {
        if !isLeader, let leader, let peer = peers[leader] {
            return [.query(peer)]
        }
        return peers.values.sorted().map { .query($0) }
    }

    /// `peer` said it serves `stamp` (a status reply or a push acknowledgement).
    package mutating func observed(_ stamp: CatalogStamp, from peer: Peer) -> [Action] {
        guard peers[peer.node]?.incarnation == peer.incarnation else { return [] }
        known[peer.node] = stamp
        if stamp > local {
            // One fetch is enough for a given catalog, from whichever peer announced it first.
            if fetching.values.contains(where: { $0 >= stamp }) { return [] }
            fetching[peer.node] = stamp
            return [.fetch(from: peer)]
        }
        if stamp < local, isLeader {
            return [.push(to: peer)]
        }
        return []
    }

    /// A fetch from `peer` ended, whatever its outcome; a failed one is retried by a later round.
    package mutating func fetchEnded(from peer: String) {
        fetching[peer] = nil
    }

    /// This node now serves `stamp` (fetched, pushed to it, or loaded). The leader pushes it on to the
    /// peers it knows are behind; peers whose catalog it does not know yet are covered by the next round.
    package mutating func served(_ stamp: CatalogStamp) -> [Action] {
        guard stamp > local else { return [] }
        local = stamp
        guard isLeader else { return [] }
        return peers.values.filter { peer in known[peer.node].map { $0 < stamp } ?? false }.sorted().map { .push(to: $0) }
    }

    /// This node published `stamp`; the publish pushes it to every peer itself.
    package mutating func published(_ stamp: CatalogStamp) {
        if stamp > local { local = stamp }
    }
}
