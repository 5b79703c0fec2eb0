import Synchronization

/// The newest of a series of values that another thread or task produces (a worker process's
/// report lines), and the end of the series: readers take the newest, and waiters are woken by
/// every new value and by the end — nothing polls.
package final class LatestValue<Value: Sendable>: Sendable {
    private struct State {
        var latest: (value: Value, at: ContinuousClock.Instant)?
        var ended = false
        /// Counts the changes (a value, the end); a waiter wakes when it moves on.
        var generation: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// The newest value; nil before the first.
    package var value: Value? { state.withLock { $0.latest?.value } }

    /// How long ago the newest value arrived, on the continuous clock; nil before the first.
    package var age: Duration? { state.withLock { $0.latest.map { .now - $0.at } } }

    /// Whether ``end()`` was called.
    package var hasEnded: Bool { state.withLock { $0.ended } }

    /// Makes `value` the newest and wakes every waiter.
    package func publish(_ value: Value) {
        changed { $0.latest = (value, .now) }
    }

    /// Ends the series (no value follows) and wakes every waiter.
    package func end() {
        changed { $0.ended = true }
    }

    /// Waits until the series ends or the task is cancelled.
    package func waitForEnd() async {
        while let generation = state.withLock({ $0.ended ? nil : $0.generation }), !Task.isCancelled {
            await nextChange(after: generation)
        }
    }

    /// Waits until a value that `satisfies` is the newest — or the series ends, the task is
    /// cancelled or `clock` reaches `deadline` — and returns the newest value then (nil before
    /// the first). A value already newest that satisfies returns at once.
    @discardableResult
    package func wait<C: Clock>(until deadline: C.Instant, clock: C, where satisfies: (Value) -> Bool) async -> Value? {
        while true {
            let (value, generation, ended) = state.withLock { ($0.latest?.value, $0.generation, $0.ended) }
            if let value, satisfies(value) { return value }
            if ended || Task.isCancelled || clock.now >= deadline { return value }
            // Whichever comes first: the next change, or the deadline.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.nextChange(after: generation) }
                group.addTask { try? await clock.sleep(until: deadline, tolerance: nil) }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Applies `change`, moves the generation on and wakes every waiter.
    private func changed(_ change: (inout State) -> Void) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            change(&state)
            state.generation &+= 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns once the generation has moved past `generation`, or the task is cancelled.
    private func nextChange(after generation: UInt64) async {
        let id = state.withLock { state -> UInt64 in
            defer { state.nextWaiter &+= 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // A cancellation whose handler ran before this registration is seen here.
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation != generation || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
