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

/// Every node runs one at ``IdentityPlacement/replicaPath``: the authority pushes key-set,
/// directory and revocation changes to it, and it hands them to the node's ``IdentityNode``.
package distributed actor IdentityReplica {
    package typealias ActorSystem = ClusterSystem

    let node: IdentityNode

    init(actorSystem: ClusterSystem, node: IdentityNode) {
        self.actorSystem = actorSystem
        self.node = node
    }

    package distributed func keysChanged(_ keys: Meridian_Identity_V1_KeySet) {
        node.install(keys: keys)
    }

    package distributed func directoryChanged(_ changes: Meridian_Identity_V1_DirectoryChanges) {
        node.apply(changes, complete: false)
    }

    package distributed func sessionsRevoked(_ revoked: Meridian_Identity_V1_SessionsRevoked) {
        node.revoke(revoked)
    }
}
