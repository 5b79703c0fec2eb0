import Distributed
import Foundation
import Logging
import MeridianCluster
import MeridianMembership
import MeridianWire

/// Every node runs one at ``path``: it answers status queries, fetches and pushes from other replicas,
/// and — on the leader — publishes. ``CatalogReplicationState`` decides; this actor carries it out.
///
/// Reads never come here: they go to ``LocalCatalog``, which this actor swaps new versions into.
package distributed actor CatalogReplica {
    package typealias ActorSystem = ClusterSystem
    typealias Peer = CatalogReplicationState.Peer

    /// The well-known path of every node's replica.
    package static let path = "/system/catalog"

    let local: LocalCatalog
    private let store: CatalogFileStore?
    let configuration: CatalogConfiguration
    private let logger: Logger
    var state: CatalogReplicationState

    package init(
        actorSystem: ClusterSystem, local: LocalCatalog, store: CatalogFileStore?,
        configuration: CatalogConfiguration, logger: Logger
    ) {
        self.actorSystem = actorSystem
        self.local = local
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.state = CatalogReplicationState(
            node: actorSystem.nodeID, region: actorSystem.region,
            primaryRegion: configuration.primaryRegion, local: local.current.stamp
        )
    }

    // MARK: - Remote API

    /// The catalog this node serves.
    package distributed func status() -> Meridian_Catalog_V1_ReplicaStatus {
        let current = local.current
        var status = Meridian_Catalog_V1_ReplicaStatus()
        status.node = actorSystem.nodeID
        status.region = actorSystem.region
        status.incarnation = actorSystem.incarnation
        status.version = current.version
        status.contentSha256 = Data(current.contentHash.bytes)
        status.publishedAtMs = CatalogContent.milliseconds(current.publishedAt)
        return status
    }

    /// This node's snapshot when it is newer than the caller's (`version`, `hash`); empty otherwise.
    package distributed func fetch(newerThan version: UInt64, hash: Data) -> Meridian_Catalog_V1_FetchReply {
        let current = local.current
        var reply = Meridian_Catalog_V1_FetchReply()
        let isNewer = CatalogStamp(version: version, hashBytes: hash).map { current.stamp > $0 } ?? (current.version > version)
        if isNewer { reply.snapshot = current.proto }
        return reply
    }

    /// A newer version from the leader: serve it, persist it, and say what this node now serves (which
    /// may be newer still). An older version changes nothing.
    package distributed func push(_ snapshot: Meridian_Catalog_V1_Snapshot) async throws -> Meridian_Catalog_V1_ReplicaStatus {
        // Only the leader numbers and pushes versions; anything else a peer has is pulled, checked.
        try actorSystem.requireMemberCaller(for: "push catalogs")
        if let caller = ClusterSystem.callerNode {
            membershipChanged()
            guard caller == state.leader else {
                throw CatalogPublishError(.notLeader, "\(caller) pushed catalog v\(snapshot.version), but the catalog leader is \(state.leader ?? "none"); refused")
            }
        }
        try accept(snapshot, from: "push")
        // Also when another push of the same version is still writing: this waits until it is durable.
        try await persistServed()
        return status()
    }

    // MARK: - Driving (local only)

    /// Membership changed: recompute the leader and check members that (re)joined.
    func membershipChanged() {
        perform(refreshMembership())
    }

    /// One anti-entropy round (started on start-up and every ``CatalogConfiguration/syncInterval``).
    func syncRound() {
        perform(refreshMembership())
        perform(state.round())
    }

    private func refreshMembership() -> [CatalogReplicationState.Action] {
        let alive = actorSystem.membership.members
            .filter { $0.status == .up || $0.status == .suspect }
            .map { Peer(node: $0.id.node, incarnation: $0.id.incarnation, region: $0.region) }
        return state.membersChanged(alive)
    }

    /// Starts every action in its own task: a slow peer never holds up the others, or this actor.
    func perform(_ actions: [CatalogReplicationState.Action]) {
        for action in actions {
            switch action {
            case .query(let peer):
                Task { await self.query(peer) }
            case .fetch(let peer):
                Task { await self.fetch(from: peer) }
            case .push(let peer):
                let snapshot = local.current
                Task { await self.push(snapshot, to: peer) }
            }
        }
    }

    func replica(_ peer: Peer) throws -> CatalogReplica {
        try CatalogReplica.resolve(id: ClusterActorID(node: peer.node, incarnation: peer.incarnation, path: Self.path), using: actorSystem)
    }

    /// Asks `peer` what it serves, and reacts to the answer.
    func query(_ peer: Peer) async {
        guard let stamp = await stamp(of: peer) else { return }
        perform(state.observed(stamp, from: peer))
    }

    /// What `peer` serves; `nil` when it does not answer in time.
    func stamp(of peer: Peer) async -> CatalogStamp? {
        do {
            let remote = try replica(peer)
            let status = try await ClusterSystem.withCallTimeout(configuration.callTimeout) { try await remote.status() }
            return CatalogStamp(version: status.version, hashBytes: status.contentSha256)
        } catch {
            logger.debug("catalog status query failed", metadata: ["meridian.peer": "\(peer)", "meridian.error": "\(error)"])
            return nil
        }
    }

    /// Fetches `peer`'s newer catalog and serves it.
    func fetch(from peer: Peer) async {
        defer { state.fetchEnded(from: peer.node) }
        do {
            let remote = try replica(peer)
            let current = local.current.stamp
            let reply = try await ClusterSystem.withCallTimeout(configuration.callTimeout) {
                try await remote.fetch(newerThan: current.version, hash: Data(current.hash.bytes))
            }
            guard reply.hasSnapshot else { return }
            try accept(reply.snapshot, from: peer.node)
            try await persistServed()
        } catch {
            logger.warning("catalog fetch failed; the next round retries", metadata: ["meridian.peer": "\(peer)", "meridian.error": "\(error)"])
        }
    }

    /// Pushes `snapshot` to `peer`; returns what `peer` serves afterwards (`nil` if it did not answer).
    @discardableResult
    func push(_ snapshot: CatalogSnapshot, to peer: Peer, timeout: Duration? = nil) async -> CatalogStamp? {
        do {
            let remote = try replica(peer)
            let proto = snapshot.proto
            let status = try await ClusterSystem.withCallTimeout(timeout ?? configuration.pushTimeout) { try await remote.push(proto) }
            guard let stamp = CatalogStamp(version: status.version, hashBytes: status.contentSha256) else { return nil }
            perform(state.observed(stamp, from: peer))
            return stamp
        } catch {
            logger.debug("catalog push failed", metadata: ["meridian.peer": "\(peer)", "meridian.error": "\(error)"])
            return nil
        }
    }

    /// Serves a snapshot received from another node if it is newer than the current one.
    /// - Throws: ``CatalogWireError`` when the bytes are damaged or do not decode.
    @discardableResult
    func accept(_ proto: Meridian_Catalog_V1_Snapshot, from source: String) throws -> Bool {
        let snapshot = try CatalogSnapshot(proto: proto)
        // Every node checks what it is handed as the leader checked it: a catalog that does not
        // validate is never served.
        try snapshot.content.validate(source: "catalog v\(snapshot.version) from \(source)")
        guard local.install(snapshot) else { return false }
        logger.info("serving catalog", metadata: [
            "meridian.catalog.version": "\(snapshot.version)",
            "meridian.catalog.hash": "\(snapshot.contentHash.short)",
            "meridian.catalog.from": "\(source)",
        ])
        perform(state.served(snapshot.stamp))
        return true
    }

    /// Persists what this node serves (no-op without a data directory, or when already on disk).
    func persistServed() async throws {
        guard let store else { return }
        do {
            try await store.save(local.current)
        } catch {
            logger.error("cannot persist the catalog; a restart would serve an older version until anti-entropy catches up",
                         metadata: ["meridian.catalog.file": "\(store.path)", "meridian.error": "\(error)"])
            throw error
        }
    }

    func persist(_ snapshot: CatalogSnapshot) async throws {
        try await store?.save(snapshot)
    }
}
