import Synchronization

/// A value that becomes known once — a node part once it started, or why it could not — and
/// that any number of tasks wait for. A waiting task that is cancelled stops waiting at once
/// with `CancellationError` (a part shut down before its dependency started).
final class Started<Value: Sendable>: Sendable {
    private enum State {
        case waiting([UInt64: UnsafeContinuation<Value, any Error>], next: UInt64)
        case done(Result<Value, any Error>)
    }

    private let state = Mutex(State.waiting([:], next: 0))

    /// The value; throws the part's start failure, or `CancellationError` when the waiting task
    /// is cancelled first.
    var value: Value {
        get async throws {
            let id = Mutex<UInt64?>(nil)
            return try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { continuation in
                    let ready = state.withLock { state -> Result<Value, any Error>? in
                        switch state {
                        case .done(let result):
                            return result
                        case .waiting(var waiters, let next):
                            // Registered before the cancellation check below, so a cancellation
                            // that lands in between still finds (and resumes) this waiter.
                            waiters[next] = continuation
                            state = .waiting(waiters, next: next + 1)
                            id.withLock { $0 = next }
                            return nil
                        }
                    }
                    if let ready {
                        continuation.resume(with: ready)
                    } else if Task.isCancelled, let id = id.withLock({ $0 }) {
                        self.cancel(id)
                    }
                }
            } onCancel: {
                if let id = id.withLock({ $0 }) { self.cancel(id) }
            }
        }
    }

    /// Whether the value (or a failure) is known.
    var isDone: Bool {
        state.withLock { if case .done = $0 { true } else { false } }
    }

    func succeed(_ value: Value) { finish(.success(value)) }

    func fail(_ error: any Error) { finish(.failure(error)) }

    /// The first outcome wins; later ones are ignored.
    private func finish(_ result: Result<Value, any Error>) {
        let waiters = state.withLock { state -> [UnsafeContinuation<Value, any Error>] in
            guard case .waiting(let waiters, _) = state else { return [] }
            state = .done(result)
            return Array(waiters.values)
        }
        for waiter in waiters { waiter.resume(with: result) }
    }

    private func cancel(_ id: UInt64) {
        let waiter = state.withLock { state -> UnsafeContinuation<Value, any Error>? in
            guard case .waiting(var waiters, let next) = state, let waiter = waiters.removeValue(forKey: id) else { return nil }
            state = .waiting(waiters, next: next)
            return waiter
        }
        waiter?.resume(throwing: CancellationError())
    }
}
