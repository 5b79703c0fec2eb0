import NIOCore
import Synchronization

/// Calls handed from any task to the connection's event loop, in batches.
///
/// A caller appends its request under a short lock; only the first caller after a drain
/// schedules one event-loop task, which takes the whole batch. So a burst of N calls costs one
/// `execute` (and at most one wake-up of the loop), not N.
final class PipelinedRequestQueue: Sendable {
    struct Request: Sendable {
        var payload: ByteBuffer
        var continuation: UnsafeContinuation<ByteBuffer, any Error>
    }

    private struct State {
        var pending: [Request] = []
        var drainScheduled = false
        /// Set once the connection is gone: later calls fail at once.
        var closedError: (any Error)?
    }

    private let state = Mutex(State())

    init() {}

    enum SubmitAction {
        /// The request is queued and a drain is already scheduled.
        case queued
        /// The request is queued; the caller must schedule a drain.
        case scheduleDrain
        /// The connection is closed; the caller must fail the request.
        case fail(any Error)
    }

    /// Queues `request` and says what the caller must do next.
    func submit(_ request: Request) -> SubmitAction {
        self.state.withLock { state in
            if let error = state.closedError {
                return .fail(error)
            }
            state.pending.append(request)
            if state.drainScheduled {
                return .queued
            }
            state.drainScheduled = true
            return .scheduleDrain
        }
    }

    /// Moves every queued request into `batch` (which must be empty) and lets the next
    /// submitter schedule the next drain. Swapping arrays keeps both buffers' capacity:
    /// no allocation once warm.
    func takePending(into batch: inout [Request]) {
        assert(batch.isEmpty)
        self.state.withLock { state in
            swap(&state.pending, &batch)
            state.drainScheduled = false
        }
    }

    /// Refuses every later request with `error` and returns those still queued.
    func close(error: any Error) -> [Request] {
        self.state.withLock { state in
            if state.closedError == nil {
                state.closedError = error
            }
            defer { state.pending = [] }
            return state.pending
        }
    }
}
