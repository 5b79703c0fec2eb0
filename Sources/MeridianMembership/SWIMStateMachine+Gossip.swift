/// Infection-style dissemination: every changed update is queued and piggybacked on the
/// next messages, least-transmitted first, until it was sent `gossipRetransmitLimit` times.
extension SWIMStateMachine {
    /// Queues (or re-queues, with a fresh budget) the latest update about a node.
    mutating func enqueueGossip(_ update: MemberUpdate) {
        gossipQueue[update.id.node] = PendingGossip(update: update, transmissions: 0)
    }

    /// The updates to piggyback on a message to `recipient` (a node id, if known).
    mutating func gossipPayload(for recipient: String?) -> [MemberUpdate] {
        let capacity = max(configuration.maxGossipPerMessage, 0)
        guard capacity > 0 else { return [] }
        let limit = configuration.gossipRetransmitLimit(memberCount: others.count + 1)
        var payload: [MemberUpdate] = []

        // A member we suspect or consider dead is told so on every message we send it, even
        // after that update's budget ran out: it is the only one that can refute the
        // suspicion, and a dead incarnation that still talks must learn it is dead.
        if let recipient, let verdict = verdict(about: recipient) {
            payload.append(verdict)
            countTransmission(of: verdict, limit: limit)
        }

        let ordered = gossipQueue.values.sorted {
            ($0.transmissions, $0.update.id.node) < ($1.transmissions, $1.update.id.node)
        }
        for entry in ordered where payload.count < capacity && !payload.contains(entry.update) {
            payload.append(entry.update)
            countTransmission(of: entry.update, limit: limit)
        }
        return payload
    }

    private func verdict(about node: String) -> MemberUpdate? {
        if let member = others[node]?.member {
            return member.status == .suspect || member.status == .down ? member.update : nil
        }
        return tombstones[node]
    }

    private mutating func countTransmission(of update: MemberUpdate, limit: Int) {
        let node = update.id.node
        guard var entry = gossipQueue[node], entry.update == update else { return }
        entry.transmissions += 1
        gossipQueue[node] = entry.transmissions >= limit ? nil : entry
    }

    /// Updates still waiting to be piggybacked, for tests and diagnostics.
    public var pendingGossipCount: Int {
        gossipQueue.count
    }
}
