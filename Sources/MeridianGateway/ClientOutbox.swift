import CoreMetrics
import DequeModule
import MeridianCluster
import MeridianTransport
import MeridianWire
import Metrics
import NIOCore
import Synchronization

/// What the gateway has to send one client, drained by its ``ClientWriteHandler`` on the
/// connection's event loop.
///
/// Reliable messages (replies, errors, match events, results, profile pushes) queue in order,
/// encoded as they arrive, up to a bound in messages and in bytes; a client that lets more pile
/// up is too slow and is disconnected. State deltas do not
/// queue: a newer delta replaces an unsent one (the client acknowledges what it received, and
/// the next delta is encoded against that, so skipping one costs nothing).
final class ClientOutbox: Sendable {
    private struct State {
        /// Encoded frames, in order.
        var reliable: Deque<ByteBuffer> = []
        var reliableBytes = 0
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
    let reliableByteLimit: Int
    private let allocator = ByteBufferAllocator()
    private let inputToDelta: Timer?
    /// Who drains the outbox, and on which event loop (set by ``onReady(on:_:)``).
    private let writer = Mutex<Writer?>(nil)

    private struct Writer: Sendable {
        let eventLoop: any EventLoop
        let drain: StoredClosure<Void>
    }

    init(reliableLimit: Int, reliableByteLimit: Int = 256 * 1024, inputToDelta: Timer? = nil) {
        self.reliableLimit = reliableLimit
        self.reliableByteLimit = reliableByteLimit
        self.inputToDelta = inputToDelta
    }

    /// Who drains the outbox: `drain` runs on `eventLoop` once per burst of new messages.
    func onReady(on eventLoop: any EventLoop, _ drain: @escaping @Sendable () -> Void) {
        writer.withLock { $0 = Writer(eventLoop: eventLoop, drain: StoredClosure(drain)) }
    }

    /// The client's input `sequence` arrived now; the first delta that reflects it is timed.
    func noteInput(sequence: UInt32) {
        state.withLock { state in
            if state.pendingInput == nil { state.pendingInput = (sequence, .now) }
        }
    }

    /// Queues a reliable message. Returns false when the client is too slow (a bound is hit):
    /// the caller disconnects it.
    @discardableResult
    func send(_ message: Meridian_Client_V1_ServerMessage) -> Bool {
        guard let frame = encode(message) else { return false }
        let (wakeUp, accepted) = state.withLock { state -> (Bool, Bool) in
            guard !state.closed else { return (false, true) }
            guard state.reliable.count < reliableLimit, state.reliableBytes + frame.readableBytes <= reliableByteLimit else {
                state.overflowed = true
                return (false, false)
            }
            state.reliable.append(frame)
            state.reliableBytes += frame.readableBytes
            return (Self.needsWake(&state), true)
        }
        if wakeUp { wakeWriter() }
        return accepted
    }

    /// One length-prefixed frame. A message of ours that does not serialize is a bug: nil.
    private func encode(_ message: Meridian_Client_V1_ServerMessage) -> ByteBuffer? {
        try? ByteBuffer.frame(message)
    }

    /// Offers a delta; it replaces an unsent one.
    func offerDelta(_ message: Meridian_Client_V1_ServerMessage) {
        var wakes = Wakes()
        offerDelta(message, wakes: &wakes)
        wakes.wake()
    }

    /// Offers a delta, leaving the writer's wake-up to `wakes` (one per event loop for a whole
    /// tick's deltas, instead of one per client).
    func offerDelta(_ message: Meridian_Client_V1_ServerMessage, wakes: inout Wakes) {
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
        if wakeUp { addWriter(to: &wakes) }
    }

    private static func needsWake(_ state: inout State) -> Bool {
        defer { state.wakePending = true }
        return !state.wakePending
    }

    private func wakeWriter() {
        var wakes = Wakes()
        addWriter(to: &wakes)
        wakes.wake()
    }

    private func addWriter(to wakes: inout Wakes) {
        if let writer = writer.withLock({ $0 }) { wakes.add(writer.drain, on: writer.eventLoop) }
    }

    /// Writers to wake, grouped by event loop: ``wake()`` runs each loop's drains in one task
    /// on that loop (one cross-thread wake-up per loop, not per client).
    struct Wakes {
        private var byLoop: [ObjectIdentifier: (loop: any EventLoop, drains: [StoredClosure<Void>])] = [:]

        fileprivate mutating func add(_ drain: StoredClosure<Void>, on loop: any EventLoop) {
            byLoop[ObjectIdentifier(loop), default: (loop, [])].drains.append(drain)
        }

        func wake() {
            for (loop, drains) in byLoop.values {
                if loop.inEventLoop {
                    for drain in drains { drain.call() }
                } else {
                    loop.execute { for drain in drains { drain.call() } }
                }
            }
        }
    }

    /// What the writer does next.
    enum Drain: Equatable {
        /// Write these frames: the reliable messages in order, the latest delta last; with
        /// `last`, the outbox is closed and they are all there is: end the output after them.
        case write(ByteBuffer, last: Bool)
        /// Nothing pending; the next message wakes the writer again.
        case idle
        /// Closed and everything written: the writer ends the connection's output.
        case finished
    }

    /// Takes everything pending. The writer calls it when woken (and when the connection can
    /// take more bytes again).
    func drain() -> Drain {
        let taken = state.withLock { state -> (frames: Deque<ByteBuffer>, bytes: Int, delta: Meridian_Client_V1_ServerMessage?, closed: Bool)? in
            state.wakePending = false
            if state.reliable.isEmpty, state.delta == nil { return nil }
            defer {
                state.reliable.removeAll(keepingCapacity: true)
                state.reliableBytes = 0
                state.delta = nil
            }
            return (state.reliable, state.reliableBytes, state.delta, state.closed)
        }
        guard let taken else { return state.withLock { $0.closed } ? .finished : .idle }
        var buffer = allocator.buffer(capacity: taken.bytes + 256)
        for frame in taken.frames { buffer.writeImmutableBuffer(frame) }
        if let delta = taken.delta, let frame = encode(delta) { buffer.writeImmutableBuffer(frame) }
        return .write(buffer, last: taken.closed)
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
        let frame = encode(message)
        let wakeUp = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            if let frame {
                state.reliable.append(frame)
                state.reliableBytes += frame.readableBytes
            }
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
