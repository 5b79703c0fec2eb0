import MeridianClock
import Synchronization

/// Gives up on a stop that takes too long: once ``start()`` was called (the cluster declared
/// the node down), the handler runs `limit` later on `clock` unless ``cancel()`` (the parts
/// stopped) came first. It runs at most once, and a limit of zero or less runs it at once,
/// within ``start()``.
///
/// The countdown's deadline is taken when it starts, so a test that steps a ``ManualClock``
/// right after ``start()`` cannot step past a sleeper that has not begun to sleep.
package final class StuckStopWatch: Sendable {
    private enum Phase {
        case idle
        case counting(Task<Void, Never>)
        case expired
        case cancelled
    }

    private struct State {
        var phase = Phase.idle
        var handler: (@Sendable () -> Void)?
    }

    package let limit: Duration
    private let clock: AnyClock
    private let state = Mutex(State())

    package init(limit: Duration, clock: AnyClock) {
        self.limit = limit
        self.clock = clock
    }

    /// Whether the limit ran out before ``cancel()``.
    package var expired: Bool {
        state.withLock { state in
            if case .expired = state.phase { return true }
            return false
        }
    }

    /// What runs when the limit runs out; if it already has, `handler` runs now.
    package func onExpiry(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state in
            state.handler = handler
            if case .expired = state.phase { return true }
            return false
        }
        if runNow { handler() }
    }

    /// Starts the countdown; once only, later calls do nothing.
    package func start() {
        let deadline = clock.now.advanced(by: limit)
        let handler = state.withLock { state -> (@Sendable () -> Void)? in
            guard case .idle = state.phase else { return nil }
            guard limit > .zero else {
                state.phase = .expired  // no time at all: before the parts are even told to stop
                return state.handler
            }
            state.phase = .counting(Task { [clock, weak self] in
                guard (try? await clock.sleep(until: deadline)) != nil else { return }
                self?.expire()
            })
            return nil
        }
        handler?()
    }

    /// Stops the countdown: the stop finished in time (or the node is done with the watch).
    package func cancel() {
        let task = state.withLock { state -> Task<Void, Never>? in
            switch state.phase {
            case .counting(let task):
                state.phase = .cancelled
                return task
            case .idle:
                state.phase = .cancelled
                return nil
            case .expired, .cancelled:
                return nil
            }
        }
        task?.cancel()
    }

    private func expire() {
        let handler = state.withLock { state -> (@Sendable () -> Void)? in
            guard case .counting = state.phase else { return nil }  // cancelled meanwhile
            state.phase = .expired
            return state.handler
        }
        handler?()
    }
}
