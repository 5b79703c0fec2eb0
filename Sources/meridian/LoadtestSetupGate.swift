import DequeModule
import Synchronization

/// Bounds how many bots of one worker are setting up at once. A bot in set-up holds up to four
/// sockets (the locating connection and one probe per region) besides its own, so without a
/// bound an overloaded ramp can run a worker out of its 20,000 open files.
final class LoadtestSetupGate: Sendable {
    private struct State {
        var available: Int
        var nextWaiter = 0
        var waiters: Deque<(id: Int, continuation: CheckedContinuation<Void, any Error>)> = []
        /// Waiters cancelled before they queued (the handler ran first). At most one entry per
        /// bot cancelled in set-up, which only happens when the run is torn down.
        var cancelledBeforeQueueing: Set<Int> = []
    }

    private let state: Mutex<State>

    init(limit: Int) {
        state = Mutex(State(available: max(1, limit)))
    }

    /// Waits for a free place; throws `CancellationError` when the task is cancelled first (the
    /// run's watchdog cancels bots still waiting, and they must not hold the worker open).
    func enter() async throws {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    if state.cancelledBeforeQueueing.remove(id) != nil { return .failure(CancellationError()) }
                    guard state.available > 0 else {
                        state.waiters.append((id, continuation))
                        return nil
                    }
                    state.available -= 1
                    return .success(())
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                    return state.waiters.remove(at: index).continuation
                }
                state.cancelledBeforeQueueing.insert(id)
                return nil
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Frees a place (hands it to the next waiter, if any).
    func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if let waiter = state.waiters.popFirst() { return waiter.continuation }
            state.available += 1
            return nil
        }
        next?.resume()
    }
}
