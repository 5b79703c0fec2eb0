import DequeModule
import Synchronization

/// Bounds how many bots of one worker are setting up at once. A bot in set-up holds up to four
/// sockets (the locating connection and one probe per region) besides its own, so without a
/// bound an overloaded ramp can run a worker out of its 20,000 open files.
final class LoadtestSetupGate: Sendable {
    private struct State {
        var available: Int
        var waiters: Deque<CheckedContinuation<Void, Never>> = []
    }

    private let state: Mutex<State>

    init(limit: Int) {
        state = Mutex(State(available: max(1, limit)))
    }

    /// Waits for a free place.
    func enter() async {
        await withCheckedContinuation { continuation in
            let admitted = state.withLock { state -> Bool in
                guard state.available > 0 else {
                    state.waiters.append(continuation)
                    return false
                }
                state.available -= 1
                return true
            }
            if admitted { continuation.resume() }
        }
    }

    /// Frees a place (hands it to the next waiter, if any).
    func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.popFirst() { return waiter }
            state.available += 1
            return nil
        }
        next?.resume()
    }
}
