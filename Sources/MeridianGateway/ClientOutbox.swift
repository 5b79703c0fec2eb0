import CoreMetrics
import DequeModule
import MeridianCluster
import MeridianWire
import Metrics
import Synchronization

/// What the gateway has to send one client, drained by its ``ClientWriteHandler`` on the
/// connection's event loop.
///
/// Reliable messages (replies, match events, results, profile pushes) queue in order up to a
/// bound; a client that lets more pile up is too slow and is disconnected. State deltas do not
/// queue: a newer delta replaces an unsent one (the client acknowledges what it received, and
/// the next delta is encoded against that, so skipping one costs nothing).
final class ClientOutbox: Sendable {
    private struct State {
        var reliable: Deque<Meridian_Client_V1_ServerMessage> = []
        var delta: Meridian_Client_V1_ServerMessage?
        /// A drain is on its way to the event loop (one per burst of messages).
        var wakePending = false
        var closed = false
        var droppedDeltas = 0
        var overflowed = false
        /// The newest input not yet reflected in a delta, and when it arrived.
        var pendingInput: (sequence: UInt32, arrived: ContinuousClock.Instant)?
    }

    private let state = Mutex(State())
    let reliableLimit: Int
    private let inputToDelta: Timer?
    /// Called (outside the lock) when there is something to write and no drain is pending.
    private let wake = Mutex<StoredClosure<Void>?>(nil)

    init(reliableLimit: Int, inputToDelta: Timer? = nil) {
        self.reliableLimit = reliableLimit
        self.inputToDelta = inputToDelta
    }

    /// Who drains the outbox: called once per burst of new messages.
    func onReady(_ wake: @escaping @Sendable () -> Void) {
        self.wake.withLock { $0 = StoredClosure(wake) }
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
        let (wakeUp, accepted) = state.withLock { state -> (Bool, Bool) in
            guard !state.closed else { return (false, true) }
            guard state.reliable.count < reliableLimit else {
                state.overflowed = true
                return (false, false)
            }
            state.reliable.append(message)
            return (Self.needsWake(&state), true)
        }
        if wakeUp { wakeWriter() }
        return accepted
    }

    /// Offers a delta; it replaces an unsent one.
    func offerDelta(_ message: Meridian_Client_V1_ServerMessage) {
        var reflected: Duration?
        let wakeUp = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            if let pending = state.pendingInput, message.delta.lastInput >= pending.sequence {
                reflected = .now - pending.arrived
                state.pendingInput = nil
            }
            if state.delta != nil { state.droppedDeltas += 1 }
            state.delta = message
            return Self.needsWake(&state)
        }
        if let reflected { inputToDelta?.recordNanoseconds(reflected.nanoseconds) }
        if wakeUp { wakeWriter() }
    }

    private static func needsWake(_ state: inout State) -> Bool {
        defer { state.wakePending = true }
        return !state.wakePending
    }

    private func wakeWriter() {
        wake.withLock { $0 }?.call()
    }

    /// What the writer does next.
    enum Drain: Equatable {
        /// Write these, reliable messages first (the latest delta last); with `last`, the outbox
        /// is closed and they are all there is: end the output after them.
        case write([Meridian_Client_V1_ServerMessage], last: Bool)
        /// Nothing pending; the next message wakes the writer again.
        case idle
        /// Closed and everything written: the writer ends the connection's output.
        case finished
    }

    /// Takes everything pending. The writer calls it when woken (and when the connection can
    /// take more bytes again).
    func drain() -> Drain {
        state.withLock { state in
            state.wakePending = false
            if state.reliable.isEmpty, state.delta == nil { return state.closed ? .finished : .idle }
            var batch = Array(state.reliable)
            state.reliable.removeAll(keepingCapacity: true)
            if let delta = state.delta { batch.append(delta) }
            state.delta = nil
            return .write(batch, last: state.closed)
        }
    }

    /// No more messages; the writer finishes what is queued and ends the output.
    func close() {
        let wakeUp = state.withLock { state -> Bool in
            state.closed = true
            return Self.needsWake(&state)
        }
        if wakeUp { wakeWriter() }
    }

    var droppedDeltas: Int { state.withLock { $0.droppedDeltas } }

    /// Whether reliable messages hit the bound (the client does not read).
    var isOverflowing: Bool { state.withLock { $0.overflowed } }

    /// Queues a last message past the bound (the error that explains a close) and closes.
    func sendFinal(_ message: Meridian_Client_V1_ServerMessage) {
        let wakeUp = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.reliable.append(message)
            state.delta = nil
            state.closed = true
            return Self.needsWake(&state)
        }
        if wakeUp { wakeWriter() }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
