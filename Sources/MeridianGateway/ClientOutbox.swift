import CoreMetrics
import DequeModule
import MeridianWire
import Metrics
import Synchronization

/// What the gateway has to send one client, drained by the connection's writer.
///
/// Reliable messages (replies, match events, results, profile pushes) queue in order up to a
/// bound; a client that lets more pile up is too slow and is disconnected. State deltas do not
/// queue: a newer delta replaces an unsent one (the client acknowledges what it received, and
/// the next delta is encoded against that, so skipping one costs nothing).
final class ClientOutbox: Sendable {
    private struct State {
        var reliable: Deque<Meridian_Client_V1_ServerMessage> = []
        var delta: Meridian_Client_V1_ServerMessage?
        var waiter: CheckedContinuation<[Meridian_Client_V1_ServerMessage]?, Never>?
        var closed = false
        var droppedDeltas = 0
        var overflowed = false
        /// The newest input not yet reflected in a delta, and when it arrived.
        var pendingInput: (sequence: UInt32, arrived: ContinuousClock.Instant)?
    }

    private let state = Mutex(State())
    let reliableLimit: Int
    private let inputToDelta: Timer?

    init(reliableLimit: Int, inputToDelta: Timer? = nil) {
        self.reliableLimit = reliableLimit
        self.inputToDelta = inputToDelta
    }

    /// The client's input `sequence` arrived now; the first delta that reflects it is timed.
    func noteInput(sequence: UInt32) {
        state.withLock { state in
            if state.pendingInput == nil { state.pendingInput = (sequence, .now) }
        }
    }

    /// Queues a reliable message. Returns false when the client is too slow (the bound is hit):
    /// the caller disconnects it.
    @discardableResult
    func send(_ message: Meridian_Client_V1_ServerMessage) -> Bool {
        let (waiter, accepted): (CheckedContinuation<[Meridian_Client_V1_ServerMessage]?, Never>?, Bool) = state.withLock { state in
            guard !state.closed else { return (nil, true) }
            guard state.reliable.count < reliableLimit else {
                state.overflowed = true
                return (nil, false)
            }
            state.reliable.append(message)
            return (Self.takeWaiter(&state), true)
        }
        waiter?.resume(returning: nil)
        return accepted
    }

    /// Offers a delta; it replaces an unsent one.
    func offerDelta(_ message: Meridian_Client_V1_ServerMessage) {
        var reflected: Duration?
        let waiter = state.withLock { state -> CheckedContinuation<[Meridian_Client_V1_ServerMessage]?, Never>? in
            guard !state.closed else { return nil }
            if let pending = state.pendingInput, message.delta.lastInput >= pending.sequence {
                reflected = .now - pending.arrived
                state.pendingInput = nil
            }
            if state.delta != nil { state.droppedDeltas += 1 }
            state.delta = message
            return Self.takeWaiter(&state)
        }
        if let reflected { inputToDelta?.recordNanoseconds(reflected.nanoseconds) }
        waiter?.resume(returning: nil)
    }

    private static func takeWaiter(_ state: inout State) -> CheckedContinuation<[Meridian_Client_V1_ServerMessage]?, Never>? {
        defer { state.waiter = nil }
        return state.waiter
    }

    /// Everything pending, reliable messages first; waits when there is nothing. Nil once closed.
    func next() async -> [Meridian_Client_V1_ServerMessage]? {
        while true {
            if let batch = takeBatch() { return batch.isEmpty ? nil : batch }
            _ = await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Bool in
                    if state.closed || !state.reliable.isEmpty || state.delta != nil { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume(returning: nil) }
            }
        }
    }

    /// The pending messages, `[]` when closed and drained, nil when there is nothing yet.
    private func takeBatch() -> [Meridian_Client_V1_ServerMessage]? {
        state.withLock { state in
            if state.reliable.isEmpty, state.delta == nil { return state.closed ? [] : nil }
            var batch = Array(state.reliable)
            state.reliable.removeAll(keepingCapacity: true)
            if let delta = state.delta { batch.append(delta) }
            state.delta = nil
            return batch
        }
    }

    /// No more messages; the writer finishes what is queued and stops.
    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<[Meridian_Client_V1_ServerMessage]?, Never>? in
            state.closed = true
            return Self.takeWaiter(&state)
        }
        waiter?.resume(returning: nil)
    }

    var droppedDeltas: Int { state.withLock { $0.droppedDeltas } }

    /// Whether reliable messages hit the bound (the client does not read).
    var isOverflowing: Bool { state.withLock { $0.overflowed } }

    /// Queues a last message past the bound (the error that explains a close) and closes.
    func sendFinal(_ message: Meridian_Client_V1_ServerMessage) {
        let waiter = state.withLock { state -> CheckedContinuation<[Meridian_Client_V1_ServerMessage]?, Never>? in
            guard !state.closed else { return nil }
            state.reliable.append(message)
            state.delta = nil
            state.closed = true
            return Self.takeWaiter(&state)
        }
        waiter?.resume(returning: nil)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
