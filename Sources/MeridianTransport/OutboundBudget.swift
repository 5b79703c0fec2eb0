import Synchronization

/// Counts the bytes accepted for a connection but not yet handed to the socket, so that a
/// peer that stops reading makes new sends fail instead of growing memory without bound.
package final class OutboundBudget: Sendable {
    package let limit: Int
    private let pending = Atomic<Int>(0)

    package init(limit: Int) {
        self.limit = limit
    }

    /// Reserves `bytes`; false (and nothing reserved) when the limit would be exceeded.
    package func reserve(_ bytes: Int) -> Bool {
        let after = pending.add(bytes, ordering: .relaxed).newValue
        if after > limit, after != bytes {  // a single message larger than the limit still goes when idle
            pending.subtract(bytes, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Accounts for a control frame (handshake, heartbeat, reject) that must go out regardless.
    package func force(_ bytes: Int) {
        pending.add(bytes, ordering: .relaxed)
    }

    package func release(_ bytes: Int) {
        pending.subtract(bytes, ordering: .relaxed)
    }

    package var pendingBytes: Int { pending.load(ordering: .relaxed) }
}
