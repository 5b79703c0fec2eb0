/// What one membership instance says to another. The driver maps these to and from the
/// wire; `gossip` is piggybacked dissemination, merged by the receiver whatever the message.
public enum SWIMMessage: Hashable, Sendable {
    /// Sent by a joining node to a seed (and by an `up` seed to seeds it does not know yet,
    /// which merges clusters that were bootstrapped apart).
    case join(MemberUpdate)
    /// The accepting node's full member list, the joiner included as `up`.
    case joinAck(members: [MemberUpdate])
    /// A direct probe; answered with `ack` carrying the responder's own id.
    case ping(sequence: UInt64, gossip: [MemberUpdate])
    /// Asks the receiver to probe `target` on our behalf and relay the outcome.
    case pingRequest(sequence: UInt64, target: MemberID, targetAddress: String, gossip: [MemberUpdate])
    /// `target` is the member that is alive: the responder itself, or the member an
    /// intermediary probed on the requester's behalf.
    case ack(sequence: UInt64, target: MemberID, gossip: [MemberUpdate])
    /// An intermediary could not reach `target` within its own timeout.
    case nack(sequence: UInt64, target: MemberID, gossip: [MemberUpdate])
    /// Graceful leave announcement: the sender is `down`.
    case leave(MemberUpdate)

    /// The piggybacked gossip, empty for messages that carry none.
    public var gossip: [MemberUpdate] {
        switch self {
        case .ping(_, let gossip), .pingRequest(_, _, _, let gossip), .ack(_, _, let gossip), .nack(_, _, let gossip):
            gossip
        case .join, .joinAck, .leave:
            []
        }
    }
}

/// What the driver must do after a call into `SWIMStateMachine`, in order.
public enum SWIMDirective: Hashable, Sendable {
    /// Send `message` to `address`; `to` is `nil` when only the address is known (seeds,
    /// replies to a sender we have no member for yet). Delivery is best-effort: SWIM
    /// tolerates lost messages, the driver must never block or retry on its behalf.
    case send(SWIMMessage, to: MemberID?, address: String)
    /// A member changed status. Emitted exactly once per change, in order.
    case changed(MembershipChange)
}
