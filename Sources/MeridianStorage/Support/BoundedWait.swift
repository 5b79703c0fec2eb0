import Synchronization

/// Waits for `task` to end, but not past `deadline` on `clock`.
///
/// For a shutdown step that must not hold up what follows it for ever (a connection pool whose
/// task has not ended): the caller goes on, and the task goes on without it — nothing here
/// cancels it.
/// - Returns: true when the task ended first, false when the deadline came first.
package func waitForEnd<Success, Failure, C: Clock>(of task: Task<Success, Failure>, until deadline: C.Instant, clock: C) async -> Bool {
    let outcome = FirstOutcome()
    return await withCheckedContinuation { continuation in
        outcome.set(continuation)
        let timer = Task {
            // A cancelled sleep means the task ended first: only a deadline reached answers false.
            guard (try? await clock.sleep(until: deadline, tolerance: nil)) != nil else { return }
            outcome.resume(false)
        }
        Task {
            _ = await task.result
            timer.cancel()
            outcome.resume(true)
        }
    }
}

/// The continuation of ``waitForEnd(of:until:clock:)``, resumed by whichever answer comes first.
private final class FirstOutcome: Sendable {
    private let continuation = Mutex<CheckedContinuation<Bool, Never>?>(nil)

    func set(_ continuation: CheckedContinuation<Bool, Never>) {
        self.continuation.withLock { $0 = continuation }
    }

    func resume(_ value: Bool) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}
