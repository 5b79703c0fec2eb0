import Distributed
import MeridianMembership
import MeridianWire
import SwiftProtobuf

/// One member as a node sees it, for `meridian status`.
public struct MemberSnapshot: Sendable, Hashable, ProtobufRepresented {
    public var node: String
    public var region: String
    public var address: String
    /// joining, up, suspect, down or removed.
    public var state: String
    public var incarnation: UInt64
    /// Milliseconds since the reporting node last heard from this member directly; nil if never.
    public var lastSeenMillisecondsAgo: Int64?

    public init(node: String, region: String, address: String, state: String, incarnation: UInt64, lastSeenMillisecondsAgo: Int64?) {
        self.node = node
        self.region = region
        self.address = address
        self.state = state
        self.incarnation = incarnation
        self.lastSeenMillisecondsAgo = lastSeenMillisecondsAgo
    }

    // Travels as a protobuf message: tools of one version ask nodes of another.
    package var proto: Meridian_Cluster_V1_MemberStatus {
        .with {
            $0.node = node
            $0.region = region
            $0.address = address
            $0.state = state
            $0.incarnation = incarnation
            if let lastSeenMillisecondsAgo { $0.lastSeenMsAgo = lastSeenMillisecondsAgo }
        }
    }

    package init(proto: Meridian_Cluster_V1_MemberStatus) {
        self.init(
            node: proto.node,
            region: proto.region,
            address: proto.address,
            state: proto.state,
            incarnation: proto.incarnation,
            lastSeenMillisecondsAgo: proto.hasLastSeenMsAgo ? proto.lastSeenMsAgo : nil
        )
    }
}

/// Every node runs one at ``NodeStatusActor/path``: it answers `meridian status`.
public distributed actor NodeStatusActor {
    public typealias ActorSystem = ClusterSystem

    public static let path = "/system/status"

    public init(actorSystem: ClusterSystem) {
        self.actorSystem = actorSystem
    }

    /// The member table as this node sees it, itself included.
    public distributed func members() -> [MemberSnapshot] {
        actorSystem.membership.snapshot()
    }
}

extension MembershipService {
    /// The member table with "last seen" turned into an age.
    public func snapshot() -> [MemberSnapshot] {
        let now = currentInstant
        return members.map { member in
            MemberSnapshot(
                node: member.id.node,
                region: member.region,
                address: member.address,
                state: member.status.rawValue,
                incarnation: member.id.incarnation,
                lastSeenMillisecondsAgo: member.lastSeen.map { Int64(((now - $0) / .milliseconds(1)).rounded()) }
            )
        }
    }
}

