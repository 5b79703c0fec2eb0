import MeridianWire

/// Who is at the other end of a cluster connection, as proven by the handshake.
public struct PeerIdentity: Hashable, Sendable, CustomStringConvertible {
    /// Node id from the topology, e.g. `eu-west-1`.
    public var node: String
    /// The lifetime of that node's process; a restarted node has a larger incarnation.
    public var incarnation: UInt64
    public var region: String
    /// `host:port` where the node accepts cluster connections.
    public var address: String

    public init(node: String, incarnation: UInt64, region: String, address: String) {
        self.node = node
        self.incarnation = incarnation
        self.region = region
        self.address = address
    }

    public var description: String { "\(node)#\(incarnation)@\(address)" }
}

extension PeerIdentity {
    package init(proto: Meridian_Cluster_V1_NodeIdentity) {
        self.init(node: proto.node, incarnation: proto.incarnation, region: proto.region, address: proto.address)
    }

    package var proto: Meridian_Cluster_V1_NodeIdentity {
        var identity = Meridian_Cluster_V1_NodeIdentity()
        identity.node = node
        identity.incarnation = incarnation
        identity.region = region
        identity.address = address
        return identity
    }
}
