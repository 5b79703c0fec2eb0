import MeridianClock
import Synchronization

/// Hands every value to each current subscriber's stream: how a service pushes its changes
/// (membership, receptionist registrations) to whoever waits for them.
package final class Broadcast<Element: Sendable>: Sendable {
    private struct State {
        var subscribers: [UInt64: AsyncStream<Element>.Continuation] = [:]
        var next: UInt64 = 0
        var finished = false
    }

    private let state = Mutex(State())

    package init() {}

    /// The values yielded from now on; a subscriber that falls behind keeps the newest `buffer`.
    package func subscribe(buffer: Int = 4096) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream.makeStream(of: Element.self, bufferingPolicy: .bufferingNewest(buffer))
        let id = state.withLock { state -> UInt64? in
            guard !state.finished else { return nil }
            defer { state.next += 1 }
            state.subscribers[state.next] = continuation
            return state.next
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    package func yield(_ value: Element) {
        for subscriber in state.withLock({ Array($0.subscribers.values) }) { subscriber.yield(value) }
    }

    /// Ends every stream; later subscribers get an ended stream.
    package func finish() {
        let subscribers = state.withLock { state in
            state.finished = true
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }
}

/// Waits until `check` returns a value, trying it now and after every element of `changes`
/// (subscribe before calling, so no change slips between the first check and the wait).
/// - Returns: The value, or nil when `changes` ended first.
/// - Throws: ``ClusterError/Code/timeout`` after `timeout` on `clock` — a safety net: the wait
///   ends on an event, never on a poll.
package func firstValue<Element: Sendable, T: Sendable>(
    of check: @escaping @Sendable () -> T?, checkedOn changes: AsyncStream<Element>, timeout: Duration,
    clock: AnyClock = .continuous, timeoutMessage: @escaping @Sendable () -> String
) async throws -> T? {
    if let value = check() { return value }
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            for await _ in changes {
                if let value = check() { return value }
            }
            return check()
        }
        group.addTask {
            try await clock.sleep(for: timeout)
            throw ClusterError(.timeout, timeoutMessage())
        }
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
}
