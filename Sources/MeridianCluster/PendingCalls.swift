import Metrics
import NIOCore
import Synchronization

/// Calls waiting for their reply, keyed by call id, system-wide (a reply may arrive on a
/// connection that was established after the call was queued).
final class PendingCalls: Sendable {
    struct Entry {
        var continuation: UnsafeContinuation<[UInt8], any Error>
        var node: String
        var deadline: NIODeadline
    }

    private let entries = Mutex<[UInt64: Entry]>([:])
    private let nextID = Atomic<UInt64>(1)

    func makeID() -> UInt64 {
        nextID.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    func insert(_ id: UInt64, _ entry: Entry) {
        entries.withLock { $0[id] = entry }
    }

    func succeed(_ id: UInt64, bytes: [UInt8]) {
        entries.withLock { $0.removeValue(forKey: id) }?.continuation.resume(returning: bytes)
    }

    /// Fails the call if it is still pending; returns whether it was.
    @discardableResult
    func fail(_ id: UInt64, _ error: any Error) -> Bool {
        guard let entry = entries.withLock({ $0.removeValue(forKey: id) }) else { return false }
        entry.continuation.resume(throwing: error)
        return true
    }

    /// Removes and returns every call past its deadline.
    func expired(now: NIODeadline) -> [(UInt64, Entry)] {
        entries.withLock { entries in
            let expired = entries.filter { $0.value.deadline <= now }
            for (id, _) in expired { entries.removeValue(forKey: id) }
            return Array(expired)
        }
    }

    /// Fails every call to `node` (it went down or its connection closed).
    func failAll(node: String, _ error: ClusterError) {
        let failed = entries.withLock { entries in
            let failed = entries.filter { $0.value.node == node }
            for (id, _) in failed { entries.removeValue(forKey: id) }
            return failed
        }
        for (_, entry) in failed { entry.continuation.resume(throwing: error) }
    }

    func failAll(_ error: ClusterError) {
        let all = entries.withLock { entries in
            defer { entries.removeAll() }
            return entries
        }
        for (_, entry) in all { entry.continuation.resume(throwing: error) }
    }

    var count: Int { entries.withLock { $0.count } }
}

/// Remote-call metrics of one actor system: latency by outcome, calls awaiting their reply.
struct RemoteCallMetrics: Sendable {
    /// `meridian_remote_call_seconds{outcome="ok"}`: from the call until its reply arrived.
    let succeeded = Metrics.Timer(label: "meridian_remote_call_seconds", dimensions: [("outcome", "ok")])
    /// `meridian_remote_call_seconds{outcome="error"}`: failed calls, timeouts and cancellations included.
    let failed = Metrics.Timer(label: "meridian_remote_call_seconds", dimensions: [("outcome", "error")])
    /// `meridian_remote_calls_in_flight`: remote calls made by this node still waiting for a reply.
    let inFlight = Meter(label: "meridian_remote_calls_in_flight")
}
