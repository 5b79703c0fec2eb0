import Distributed
import Foundation
import MeridianCluster
import MeridianWire

extension CatalogReplica {
    /// Publishes a catalog: on the leader, assigns the next version, persists it and pushes it to every
    /// alive member; on another primary-region node, forwards the request to the leader once.
    ///
    /// Publishing content identical to the version served makes no new version: the reply names the
    /// current one (so a client may retry a publish whose reply it lost).
    /// - Throws: ``CatalogPublishError``; when it throws, no node serves a new version.
    package distributed func publish(_ request: Meridian_Catalog_V1_PublishRequest) async throws -> Meridian_Catalog_V1_PublishReply {
        try actorSystem.requireMemberCaller(for: "publish catalogs")
        membershipChanged()
        guard let leader = state.leader else {
            throw CatalogPublishError(.noLeader, "no node of the catalog primary region '\(state.primaryRegion)' is up; start one and publish again")
        }
        guard leader == actorSystem.nodeID else {
            guard !request.forwarded, let peer = state.peers[leader] else {
                throw CatalogPublishError(.notLeader, "\(actorSystem.nodeID) is not the catalog leader (\(leader) is); publish again")
            }
            var forwarded = request
            forwarded.forwarded = true
            let remote = try replica(peer)
            // Long enough for the leader's catch-up queries and its pushes.
            let timeout = configuration.pushTimeout + configuration.callTimeout * 2 + .seconds(1)
            return try await ClusterSystem.withCallTimeout(timeout) { try await remote.publish(forwarded) }
        }
        let content: CatalogContent
        do {
            content = try CatalogContent(encoded: [UInt8](request.content))
            try content.validate(source: request.source.isEmpty ? "<catalog>" : request.source)
        } catch {
            throw CatalogPublishError(.invalidCatalog, "\(error)")
        }
        // Hold the newest version any reachable primary-region node has before numbering a new one
        // (this node may have just become leader, after missing its predecessor's last publish).
        await catchUp()
        let candidate = CatalogSnapshot(version: 0, content: content)
        let served = local.current
        if served.version > 0, served.contentHash == candidate.contentHash {
            return await reply(for: served)
        }
        guard let version = state.reserveVersion() else {
            throw CatalogPublishError(.versionsExhausted, "a catalog version of \(UInt64.max) was announced in the cluster; no version can follow it")
        }
        let snapshot = CatalogSnapshot(version: version, content: content, publishedAt: Date(), publishedBy: actorSystem.nodeID)
        // Durable before anyone sees it: if this fails, nothing changed.
        do {
            try await persist(snapshot)
        } catch {
            throw CatalogPublishError(.persistenceFailed, "\(actorSystem.nodeID) could not persist catalog v\(snapshot.version): \(error); free disk space and publish again")
        }
        local.install(snapshot)
        state.published(snapshot.stamp)
        return await reply(for: snapshot)
    }

    /// Asks every alive primary-region peer what it serves and fetches anything newer, waiting for both.
    private func catchUp() async {
        let peers = state.primaryPeers
        let stamps = await withTaskGroup(of: (Peer, CatalogStamp?).self) { group in
            for peer in peers {
                group.addTask { (peer, await self.stamp(of: peer)) }
            }
            var stamps: [(Peer, CatalogStamp)] = []
            for await (peer, stamp) in group {
                if let stamp { stamps.append((peer, stamp)) }
            }
            return stamps
        }
        // Newest first: once it is fetched, the others have nothing newer to offer.
        for (peer, stamp) in stamps.sorted(by: { $0.1 > $1.1 }) {
            for action in state.observed(stamp, from: peer) {
                if case .fetch(let source) = action {
                    await fetch(from: source)
                } else {
                    perform([action])
                }
            }
        }
    }

    /// Pushes `snapshot` to every alive member, waiting for each (up to the push timeout), and reports
    /// who serves it (or something newer) now.
    private func reply(for snapshot: CatalogSnapshot) async -> Meridian_Catalog_V1_PublishReply {
        let targets = state.pushTargets
        let results = await withTaskGroup(of: (String, CatalogStamp?).self) { group in
            for peer in targets {
                group.addTask { (peer.node, await self.push(snapshot, to: peer)) }
            }
            var results: [(String, CatalogStamp?)] = []
            for await result in group { results.append(result) }
            return results
        }
        var reply = Meridian_Catalog_V1_PublishReply()
        reply.version = snapshot.version
        reply.contentSha256 = Data(snapshot.contentHash.bytes)
        reply.leader = actorSystem.nodeID
        reply.acknowledged = [actorSystem.nodeID]
        for (node, stamp) in results.sorted(by: { $0.0 < $1.0 }) {
            if let stamp, stamp >= snapshot.stamp {
                reply.acknowledged.append(node)
            } else {
                reply.missed.append(node)
            }
        }
        return reply
    }
}
