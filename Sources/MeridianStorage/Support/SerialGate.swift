import DequeModule
import Synchronization

/// A first-in, first-out async mutex: one holder at a time, waiters resumed in arrival order.
///
/// An actor alone would not do: it lets other calls in at every `await`, and a SQLite transaction
/// spans many awaits on one connection. Waiting is not cancellable (the holder is always making
/// progress on the database, so the wait is bounded by the transactions ahead).
final class SerialGate: Sendable {
    private struct State {
        var busy = false
        var waiters = Deque<CheckedContinuation<Void, Never>>()
    }

    private let state = Mutex(State())

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { state -> Bool in
                if !state.busy {
                    state.busy = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    func release() {
        // Hand the permit straight to the next waiter: `busy` stays true, so nobody can barge in.
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let next = state.waiters.popFirst() { return next }
            state.busy = false
            return nil
        }
        next?.resume()
    }
}
