import Synchronization

/// A clock that moves only when told to: tests step time instead of sleeping on it.
///
/// `sleep(until:)` suspends until ``advance(by:)`` (or ``advance(to:)``) moves `now` to or past
/// the deadline; a deadline already reached returns at once. Woken tasks then run on their own
/// executors, so a test that advanced time awaits an event that says the timed work happened
/// (a phase reported, a value changed) rather than assuming it ran.
///
/// Code under test should compute a deadline when it schedules work (`clock.now + delay`),
/// not when the sleeping task first runs: then advancing right after scheduling cannot be
/// missed by a task that has not started sleeping yet.
public final class ManualClock: Clock, Sendable {
    public typealias Instant = AnyClock.Instant

    private struct Sleeper {
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct Waiter {
        let predicate: @Sendable ([Instant]) -> Bool
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [UInt64: Sleeper] = [:]
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0

        var deadlines: [Instant] { sleepers.values.map(\.deadline).sorted() }

        /// Removes and returns the waiters whose predicate holds now.
        mutating func satisfiedWaiters() -> [CheckedContinuation<Void, Never>] {
            let deadlines = deadlines
            let ready = waiters.filter { $0.value.predicate(deadlines) }
            for id in ready.keys { waiters[id] = nil }
            return ready.values.map(\.continuation)
        }
    }

    private let state = Mutex(State())

    public init() {}

    public var now: Instant { state.withLock { $0.now } }

    public var minimumResolution: Duration { .zero }

    /// The deadlines tasks sleep until now, earliest first.
    public var pendingDeadlines: [Instant] { state.withLock { $0.deadlines } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let id = state.withLock { state -> UInt64 in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (resumeNow, waiters) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                    guard deadline > state.now, !Task.isCancelled else { return (true, []) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return (false, state.satisfiedWaiters())
                }
                for waiter in waiters { waiter.resume() }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let (sleeper, waiters) = state.withLock { state in
                (state.sleepers.removeValue(forKey: id), state.satisfiedWaiters())
            }
            sleeper?.continuation.resume(throwing: CancellationError())
            for waiter in waiters { waiter.resume() }
        }
        try Task.checkCancellation()
    }

    /// Moves time forward by `duration` and wakes every task whose deadline is reached.
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "a clock does not go back")
        advance(to: now.advanced(by: duration))
    }

    /// Moves time forward to `instant` (if it is later than now) and wakes every task whose
    /// deadline is reached.
    public func advance(to instant: Instant) {
        let (due, waiters) = state.withLock { state -> ([Sleeper], [CheckedContinuation<Void, Never>]) in
            if instant > state.now { state.now = instant }
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers[id] = nil }
            return (due.values.sorted { $0.deadline < $1.deadline }, state.satisfiedWaiters())
        }
        for sleeper in due { sleeper.continuation.resume() }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the deadlines tasks sleep until satisfy `predicate` (checked now and at
    /// every change), e.g. "some task sleeps until `now + 1 s`".
    public func waitUntilSleeping(_ predicate: @escaping @Sendable (_ deadlines: [Instant]) -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let satisfied = state.withLock { state -> Bool in
                if predicate(state.deadlines) { return true }
                state.waiters[state.nextID] = Waiter(predicate: predicate, continuation: continuation)
                state.nextID += 1
                return false
            }
            if satisfied { continuation.resume() }
        }
    }
}
