import Distributed
import Foundation
import Logging
import MeridianClock
import MeridianCluster
import MeridianMembership
import MeridianStorage
import MeridianTopology
import MeridianWire
import SwiftProtobuf
import Synchronization

/// What the identity layer changed, as a node's gateway needs to hear it.
public enum IdentityEvent: Sendable, Hashable {
    /// A player's directory entry changed (banned, unbanned, moved home).
    case directoryChanged(DirectoryEntry)
    /// These logins ended (logout, a reused refresh token): their access tokens are refused from now on.
    case sessionsRevoked([UUID])
}

/// A node's part of the identity layer: the key set that verifies access tokens without a round
/// trip, a read cache of the home-region directory, the revoked logins, and the way to the
/// authority for logins and refreshes. On the authority's node it also runs the
/// ``IdentityAuthority`` itself.
///
/// The cache follows the catalog replica's pattern: the authority pushes every change to every
/// node; a node pulls what it missed (directory changes after the version it saw, and the key
/// set) whenever the authority's node joins its membership view again.
public final class IdentityNode: Sendable {
    public let configuration: IdentityConfiguration
    let system: ClusterSystem
    let topology: Topology
    let logger: Logger
    let now: @Sendable () -> Date
    /// The node the authority runs on; nil when the authority region has no nodes.
    public var authorityNode: String? { authority.authorityNode }
    let authority: AuthorityClient

    private struct State {
        var keys: TokenKeySet
        var entries: [UUID: DirectoryEntry] = [:]
        /// The authority's directory version this cache has caught up with.
        var seen: Int64 = 0
        /// Revoked logins, with the second their last access token expires.
        var revoked: [UUID: UInt64] = [:]
        var lastKeyFetch: Date?
        var replica: IdentityReplica?
        /// The authority itself, on its node (kept alive here).
        var localAuthority: IdentityAuthority?
        /// The authority's transfer coordinator, on its node.
        var transferCoordinator: TransferCoordinator?
        /// This node's part of transfers: the steps in its own store.
        var transferAgent: TransferAgent?
        var driver: Task<Void, Never>?
    }

    private let state: Mutex<State>
    private let events = Broadcast<IdentityEvent>()
    /// Directory entries kept per node at most; beyond it the cache forgets arbitrary entries
    /// (they are read from the authority again when needed).
    static let cacheLimit = 200_000

    private init(system: ClusterSystem, topology: Topology, configuration: IdentityConfiguration, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.system = system
        self.topology = topology
        self.configuration = configuration
        self.now = now
        self.logger = logger
        self.authority = AuthorityClient(system: system, topology: topology, timeout: configuration.callTimeout, logger: logger)
        self.state = Mutex(State(keys: TokenKeySet(cluster: system.configuration.cluster)))
    }

    /// Registers this node's replica (and, on the authority's node, the authority over `store`),
    /// then loads the key set and follows membership to catch up after partitions.
    /// - Parameter store: this node's store; used only on the authority's node, which needs an ``AccountStore``.
    /// - Parameter now: the wall clock tokens are issued and checked with.
    /// - Parameter playerBusy: Why a local player's data cannot move now (queued, in a match), or nil;
    ///   the node's transfer agent refuses to freeze such a player.
    public static func start(
        system: ClusterSystem, topology: Topology, store: (any RegionStore)?, configuration: IdentityConfiguration,
        now: @escaping @Sendable () -> Date = { Date() }, playerBusy: @escaping @Sendable (UUID) async -> String? = { _ in nil },
        logger: Logger
    ) async throws -> IdentityNode {
        let node = IdentityNode(system: system, topology: topology, configuration: configuration, now: now, logger: logger)
        let replica = try system.makeActor(path: IdentityPlacement.replicaPath) { IdentityReplica(actorSystem: system, node: node) }
        node.state.withLock { $0.replica = replica }
        if let store {
            let agent = try system.makeActor(path: TransferAgent.path) {
                TransferAgent(actorSystem: system, store: store, busy: playerBusy, logger: logger)
            }
            node.state.withLock { $0.transferAgent = agent }
        }
        if node.authorityNode == system.nodeID {
            guard let accounts = store as? any AccountStore else {
                throw IdentityRefusal(.unavailable, "this node serves the identity authority but its store keeps no accounts")
            }
            let authority = try system.makeActor(path: IdentityPlacement.authorityPath) {
                IdentityAuthority(actorSystem: system, store: accounts, configuration: configuration, topology: topology, now: now, logger: logger)
            }
            try await authority.whenLocal { try await $0.prepare() }
            let coordinator = try system.makeActor(path: TransferCoordinator.path) {
                TransferCoordinator(
                    actorSystem: system, store: accounts, topology: topology, configuration: configuration, now: now,
                    publish: { [weak authority] entry in await authority?.whenLocal { await $0.publish(entries: [entry]) } },
                    logger: logger
                )
            }
            node.state.withLock {
                $0.localAuthority = authority
                $0.transferCoordinator = coordinator
            }
            await coordinator.whenLocal { await $0.resumeOpenTransfers() }
            logger.info("identity authority ready", metadata: ["meridian.identity.authority": "\(system.nodeID)"])
        }
        node.startDriver()
        return node
    }

    public func stop() async {
        let driver = state.withLock { state -> Task<Void, Never>? in
            defer { state.driver = nil }
            return state.driver
        }
        driver?.cancel()
        await driver?.value
        events.finish()
    }

    /// The identity events from now on.
    public func subscribe() -> AsyncStream<IdentityEvent> { events.subscribe() }

    // MARK: Tokens

    /// The claims of a valid access token whose login was not revoked. A token naming a key this
    /// node does not know yet makes it fetch the key set once (at most every few seconds) and retry.
    public func verify(_ token: String) async throws(TokenError) -> AccessClaims {
        let claims: AccessClaims
        do {
            claims = try state.withLock { state throws(TokenError) in try state.keys.verify(token, now: now()) }
        } catch where error.code == .unknownKey {
            guard await refreshKeys(force: false) else { throw error }
            claims = try state.withLock { state throws(TokenError) in try state.keys.verify(token, now: now()) }
        }
        guard !isRevoked(session: claims.session) else {
            throw TokenError(.expired, "this login was ended (logout or a reused refresh token); log in again")
        }
        return claims
    }

    public func isRevoked(session: UUID) -> Bool {
        let second = now().unixSeconds
        return state.withLock { state in (state.revoked[session].map { second < $0 }) ?? false }
    }

    // MARK: Calls to the authority

    /// Logs in with `request` at the authority.
    package func login(_ request: Meridian_Identity_V1_LoginRequest) async throws(IdentityRefusal) -> LoginGrant {
        let request = request
        return try await callAuthority { try await $0.login(request) }.grant()
    }

    public func refresh(_ token: String, source: String) async throws(IdentityRefusal) -> LoginGrant {
        var request = Meridian_Identity_V1_RefreshRequest()
        request.refreshToken = token
        request.source = source
        let sent = request
        return try await callAuthority { try await $0.refresh(sent) }.grant()
    }

    public func logout(session: UUID) async throws(IdentityRefusal) {
        try await callAuthority { try await $0.logout(session: session) }
    }

    /// Links another login method to `player`'s account (the player's own request); returns the
    /// account's methods. A method linked already anywhere is refused with `alreadyExists`.
    package func link(player: UUID, _ request: Meridian_Identity_V1_LinkRequest) async throws(IdentityRefusal) -> Meridian_Identity_V1_AccountDetails {
        var request = request
        request.player = player.wireBytes
        let sent = request
        return try await callAuthority { try await $0.link(sent) }.details()
    }

    /// Unlinks a login method of `kind` (and `subject`, if several) from `player`'s account.
    package func unlink(player: UUID, kind: String, subject: String) async throws(IdentityRefusal) -> Meridian_Identity_V1_AccountDetails {
        var request = Meridian_Identity_V1_UnlinkRequest()
        request.player = player.wireBytes
        request.kind = kind
        request.subject = subject
        let sent = request
        return try await callAuthority { try await $0.unlink(sent) }.details()
    }

    /// An operator's new account (`meridian account create`, load generators' bots).
    package func createAccount(_ request: Meridian_Identity_V1_AdminCreateAccount) async throws(IdentityRefusal) -> LoginGrant {
        let request = request
        return try await callAuthority { try await $0.createAccount(request) }.grant()
    }

    public func setBanned(player: UUID, banned: Bool) async throws(IdentityRefusal) -> DirectoryEntry {
        let proto = try await callAuthority { try await $0.setBanned(player: player, banned: banned) }
        do { return try DirectoryEntry(proto: proto) } catch { throw IdentityRefusal(.unavailable, "the identity authority sent a malformed entry") }
    }

    public func rotateKeys() async throws(IdentityRefusal) -> [String] {
        let keys = try await callAuthority { try await $0.rotateKeys() }
        install(keys: keys)
        return keys.keys.map(\.keyID)
    }

    /// The player's directory entry: from this node's cache, else from the authority (then cached).
    /// Nil: no such player.
    public func entry(of player: UUID) async throws(IdentityRefusal) -> DirectoryEntry? {
        if let cached = state.withLock({ $0.entries[player] }) { return cached }
        let lookup = try await callAuthority { try await $0.lookup(player: player) }
        guard lookup.found, let entry = try? DirectoryEntry(proto: lookup.entry) else { return nil }
        remember(entry)
        return entry
    }

    /// The cached entry, if this node has one (no call).
    public func cachedEntry(of player: UUID) -> DirectoryEntry? {
        state.withLock { $0.entries[player] }
    }

    /// Where the player's data lives, as the directory says.
    public func homeRegion(of player: UUID) async throws(IdentityRefusal) -> String {
        guard let entry = try await entry(of: player) else {
            throw IdentityRefusal(.invalidRequest, "no player \(player.uuidString.lowercased()) exists")
        }
        return entry.homeRegion
    }

    /// Moves `player`'s home to `region` and returns the transfer as it ended (`done`, or
    /// `rolled_back` with the reason). Refused when it cannot start: an unknown player or region,
    /// the player's home already, another transfer of the player under way.
    public func transfer(player: UUID, to region: String, timeout: Duration = .seconds(120)) async throws(IdentityRefusal) -> TransferRecord {
        let reply = try await authority.transfers(timeout: timeout) { try await $0.transfer(player: player, to: region) }
        return try Self.record(reply)
    }

    /// A player's own request to move its home to `region` (from its client): as
    /// ``transfer(player:to:timeout:)``, refused within the cool-down of its last move
    /// (``IdentityConfiguration/Transfer/playerCooldown``).
    public func requestTransfer(player: UUID, to region: String, timeout: Duration = .seconds(120)) async throws(IdentityRefusal) -> TransferRecord {
        let reply = try await authority.transfers(timeout: timeout) { try await $0.transferRequestedByPlayer(player: player, to: region) }
        return try Self.record(reply)
    }

    /// The player's most recent transfer (nil: never transferred).
    public func latestTransfer(of player: UUID) async throws(IdentityRefusal) -> TransferRecord? {
        let reply = try await authority.transfers(timeout: configuration.callTimeout) { try await $0.latest(player: player) }
        if case .refusal = reply.result { return nil }
        return try Self.record(reply)
    }

    private static func record(_ reply: Meridian_Transfer_V1_TransferReply) throws(IdentityRefusal) -> TransferRecord {
        switch reply.result {
        case .status(let status):
            guard let record = TransferRecord(wire: status) else { throw IdentityRefusal(.unavailable, "the transfer coordinator sent a malformed status") }
            return record
        case .refusal(let message):
            throw IdentityRefusal(.invalidRequest, message)
        case nil:
            throw IdentityRefusal(.unavailable, "the transfer coordinator sent an empty reply")
        }
    }

    private func callAuthority<T: Sendable>(_ body: @escaping @Sendable (IdentityAuthority) async throws -> T) async throws(IdentityRefusal) -> T {
        try await authority.call(body)
    }

    // MARK: Replication (driven by pushes and membership)

    func install(keys proto: Meridian_Identity_V1_KeySet) {
        let keys = TokenKeySet(cluster: system.configuration.cluster, proto: proto)
        guard !keys.isEmpty else { return }
        state.withLock { $0.keys = keys }
        logger.debug("identity key set installed", metadata: ["meridian.identity.keys": "\(keys.keyIDs)"])
    }

    /// Applies changed entries to the cached ones (an entry never goes back to an older version).
    /// `complete`: `changes` holds every change up to `changes.latest`, so the cache has caught up to it.
    func apply(_ changes: Meridian_Identity_V1_DirectoryChanges, complete: Bool) {
        let entries = changes.entries.compactMap { try? DirectoryEntry(proto: $0) }
        let changed = state.withLock { state -> [DirectoryEntry] in
            var changed: [DirectoryEntry] = []
            for entry in entries {
                if let cached = state.entries[entry.player] {
                    guard cached.version < entry.version else { continue }
                    state.entries[entry.player] = entry
                }
                changed.append(entry)
            }
            if complete { state.seen = max(state.seen, changes.latest) }
            return changed
        }
        for entry in changed { events.yield(.directoryChanged(entry)) }
    }

    func revoke(_ revoked: Meridian_Identity_V1_SessionsRevoked) {
        let sessions = revoked.sessions.compactMap { UUID(uuidString: $0) }
        let second = now().unixSeconds
        state.withLock { state in
            state.revoked = state.revoked.filter { $0.value > second }
            for session in sessions { state.revoked[session] = revoked.untilUnix }
        }
        events.yield(.sessionsRevoked(sessions))
    }

    private func remember(_ entry: DirectoryEntry) {
        state.withLock { state in
            if state.entries.count >= Self.cacheLimit, let any = state.entries.keys.first { state.entries[any] = nil }
            if let cached = state.entries[entry.player], cached.version >= entry.version { return }
            state.entries[entry.player] = entry
        }
    }

    /// Fetches the key set from the authority; without `force`, at most once every 2 s. True if it got one.
    @discardableResult
    func refreshKeys(force: Bool) async -> Bool {
        let time = now()
        let allowed = state.withLock { state -> Bool in
            if !force, let last = state.lastKeyFetch, time.timeIntervalSince(last) < 2 { return false }
            state.lastKeyFetch = time
            return true
        }
        guard allowed, let keys = try? await callAuthority({ try await $0.keySet() }) else { return false }
        install(keys: keys)
        return true
    }

    /// Pulls the directory changes this node missed. A cache far behind is dropped instead (its
    /// entries are read again on demand) rather than replaying every change since.
    func catchUp() async {
        var seen = state.withLock { $0.seen }
        if seen == 0 {
            // First contact: nothing cached can be stale yet; start from the authority's newest version.
            guard let latest = try? await callAuthority({ try await $0.changes(after: .max, limit: 1) }) else { return }
            state.withLock { $0.seen = max($0.seen, latest.latest) }
            return
        }
        while !Task.isCancelled {
            guard let changes = try? await callAuthority({ [seen] in try await $0.changes(after: seen, limit: 1000) }) else { return }
            if changes.latest - seen > 10_000 {
                state.withLock { state in
                    state.entries.removeAll()
                    state.seen = changes.latest
                }
                return
            }
            apply(changes, complete: false)
            let last = changes.entries.last?.version ?? changes.latest
            state.withLock { $0.seen = max($0.seen, last) }
            seen = last
            if changes.entries.count < 1000 { return }
        }
    }

    private func startDriver() {
        let membership = system.membership
        let authorityNode = self.authorityNode
        let task = Task { [weak self] in
            let changes = membership.changes()
            await self?.refreshKeys(force: true)
            await self?.catchUp()
            var authorityUp = membership.members.contains { $0.id.node == authorityNode && $0.status == .up }
            for await _ in changes {
                guard let self else { return }
                let up = membership.members.contains { $0.id.node == authorityNode && $0.status == .up }
                defer { authorityUp = up }
                // The authority (re)appeared: catch up on what its pushes could not deliver meanwhile.
                if up, !authorityUp || self.state.withLock({ $0.keys.isEmpty }) {
                    await self.refreshKeys(force: true)
                    await self.catchUp()
                }
            }
        }
        state.withLock { $0.driver = task }
    }
}
