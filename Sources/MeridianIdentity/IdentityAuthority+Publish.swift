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

/// Telling every node's ``IdentityReplica`` what changed. A node that misses a push catches up:
/// it pulls directory changes and the key set when the authority's node (re)appears in its
/// membership, and fetches the key set when a token names a key it does not know.
extension IdentityAuthority {
    func publish(entries: [DirectoryEntry]) async {
        var changes = Meridian_Identity_V1_DirectoryChanges()
        changes.entries = entries.map(\.proto)
        changes.latest = entries.map(\.version).max() ?? 0
        let sent = changes
        await pushToAll { try await $0.directoryChanged(sent) }
    }

    func publish(keys: Meridian_Identity_V1_KeySet) async {
        await pushToAll { try await $0.keysChanged(keys) }
    }

    func revoke(sessions: [UUID]) async {
        var revoked = Meridian_Identity_V1_SessionsRevoked()
        revoked.sessions = sessions.map(\.wire)
        revoked.untilUnix = now().unixSeconds + UInt64(max(1, configuration.accessTokenLifetime.seconds))
        let sent = revoked
        await pushToAll { try await $0.sessionsRevoked(sent) }
    }

    /// Calls every up or suspect member's replica (this node's too) at once, each within the call timeout.
    private func pushToAll(_ call: @escaping @Sendable (IdentityReplica) async throws -> Void) async {
        let system = actorSystem
        let timeout = configuration.callTimeout
        let logger = self.logger
        let members = system.membership.members.filter { $0.status == .up || $0.status == .suspect }
        await withTaskGroup(of: Void.self) { group in
            for member in members {
                group.addTask {
                    do {
                        let replica = try IdentityReplica.resolve(
                            id: ClusterActorID(node: member.id.node, incarnation: member.id.incarnation, path: IdentityPlacement.replicaPath), using: system
                        )
                        try await ClusterSystem.withCallTimeout(timeout) { try await call(replica) }
                    } catch {
                        logger.debug("identity push failed; the node catches up later", metadata: [
                            "meridian.peer": "\(member.id)", "meridian.error": "\(error)",
                        ])
                    }
                }
            }
        }
    }
}
