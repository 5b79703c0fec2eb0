import MeridianMembership
import MeridianWire

/// Conversions between the pure SWIM types and their wire form in cluster.proto.
extension MemberUpdate {
    init(proto: Meridian_Cluster_V1_MemberUpdate) {
        self.init(
            id: MemberID(node: proto.member.node, incarnation: proto.member.incarnation),
            region: proto.member.region,
            address: proto.member.address,
            status: MemberStatus(proto: proto.status),
            generation: proto.generation
        )
    }

    var proto: Meridian_Cluster_V1_MemberUpdate {
        var update = Meridian_Cluster_V1_MemberUpdate()
        update.member = .init(id: id, region: region, address: address)
        update.status = status.proto
        update.generation = generation
        return update
    }
}

extension Meridian_Cluster_V1_NodeIdentity {
    init(id: MemberID, region: String = "", address: String = "") {
        self.init()
        node = id.node
        incarnation = id.incarnation
        self.region = region
        self.address = address
    }

    var memberID: MemberID { MemberID(node: node, incarnation: incarnation) }
}

extension MemberStatus {
    init(proto: Meridian_Cluster_V1_MemberUpdate.Status) {
        switch proto {
        case .joining: self = .joining
        case .up: self = .up
        case .suspect: self = .suspect
        case .down: self = .down
        case .removed: self = .removed
        case .UNRECOGNIZED: self = .joining
        }
    }

    var proto: Meridian_Cluster_V1_MemberUpdate.Status {
        switch self {
        case .joining: .joining
        case .up: .up
        case .suspect: .suspect
        case .down: .down
        case .removed: .removed
        }
    }
}

extension SWIMMessage {
    /// Nil for a message of a kind this version does not know.
    init?(proto: Meridian_Cluster_V1_Swim) {
        switch proto.message {
        case .join(let join): self = .join(MemberUpdate(proto: join.member))
        case .joinAck(let ack): self = .joinAck(members: ack.members.map(MemberUpdate.init(proto:)))
        case .ping(let ping): self = .ping(sequence: ping.sequence, gossip: ping.gossip.map(MemberUpdate.init(proto:)))
        case .pingRequest(let request):
            self = .pingRequest(
                sequence: request.sequence,
                target: request.target.memberID,
                targetAddress: request.target.address,
                gossip: request.gossip.map(MemberUpdate.init(proto:))
            )
        case .ack(let ack): self = .ack(sequence: ack.sequence, target: ack.target.memberID, gossip: ack.gossip.map(MemberUpdate.init(proto:)))
        case .nack(let nack): self = .nack(sequence: nack.sequence, target: nack.target.memberID, gossip: nack.gossip.map(MemberUpdate.init(proto:)))
        case .leave(let leave): self = .leave(MemberUpdate(proto: leave.member))
        case nil: return nil
        }
    }

    var proto: Meridian_Cluster_V1_Swim {
        var swim = Meridian_Cluster_V1_Swim()
        switch self {
        case .join(let update):
            swim.join.member = update.proto
        case .joinAck(let members):
            swim.joinAck.members = members.map(\.proto)
        case .ping(let sequence, let gossip):
            swim.ping.sequence = sequence
            swim.ping.gossip = gossip.map(\.proto)
        case .pingRequest(let sequence, let target, let address, let gossip):
            swim.pingRequest.sequence = sequence
            swim.pingRequest.target = .init(id: target, address: address)
            swim.pingRequest.gossip = gossip.map(\.proto)
        case .ack(let sequence, let target, let gossip):
            swim.ack.sequence = sequence
            swim.ack.target = .init(id: target)
            swim.ack.gossip = gossip.map(\.proto)
        case .nack(let sequence, let target, let gossip):
            swim.nack.sequence = sequence
            swim.nack.target = .init(id: target)
            swim.nack.gossip = gossip.map(\.proto)
        case .leave(let update):
            swim.leave.member = update.proto
        }
        return swim
    }
}
