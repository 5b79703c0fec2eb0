import NIOCore
import SwiftProtobuf
import Synchronization

/// An authenticated connection to one peer node. Thread-safe: any task may send.
///
/// Sends are serialized on the caller's thread, then batched: the first send of a batch
/// schedules one event-loop task that writes every queued frame and flushes once, so a burst
/// of calls costs one wake-up and one `writev`, not one per message.
public final class PeerConnection: Sendable, CustomStringConvertible {
    public let peer: PeerIdentity
    /// True when this node dialed the connection.
    public let dialed: Bool
    package let channel: any Channel
    package let budget: OutboundBudget
    /// Small frames are packed into one buffer of at most this size; larger envelopes travel
    /// alone (the lanes handler fragments them). Equal to the fragment size, so a packed
    /// buffer always stays on the priority lane.
    private let packLimit: Int
    private let batch = Mutex(Batch())

    fileprivate struct Batch {
        /// Buffers ready to be written, in send order.
        var ready: [ByteBuffer] = []
        /// The buffer small frames are being packed into.
        var packing: ByteBuffer?
        var drainScheduled = false
    }

    package init(peer: PeerIdentity, dialed: Bool, channel: any Channel, budget: OutboundBudget, packLimit: Int = 64 * 1024) {
        self.packLimit = packLimit
        self.peer = peer
        self.dialed = dialed
        self.channel = channel
        self.budget = budget
    }

    public var description: String { "PeerConnection(\(peer), dialed: \(dialed))" }

    public var isActive: Bool { channel.isActive }

    /// Queues `envelope` for this peer.
    /// - Throws: ``TransportError/Code/overloaded`` when too many bytes are already waiting.
    package func send(_ envelope: Envelope) throws {
        try send(frame: EnvelopeCoding.frame(envelope))
    }

    /// Queues an already framed envelope (see ``EnvelopeCoding``): packed with other small
    /// frames, or on its own (then the lanes handler fragments it).
    /// - Throws: ``TransportError/Code/overloaded`` when too many bytes are already waiting.
    package func send(frame: ByteBuffer) throws {
        let size = frame.readableBytes
        try reserve(size)
        let allocator = channel.allocator
        let schedule = batch.withLock { batch in
            if size > packLimit {
                batch.closePacking()
                batch.ready.append(frame)
            } else {
                if let packing = batch.packing, packing.readableBytes + size > packLimit {
                    batch.closePacking()
                }
                if batch.packing == nil {
                    batch.packing = allocator.buffer(capacity: max(size, 4096))
                }
                batch.packing!.writeImmutableBuffer(frame)
            }
            return batch.scheduleDrain()
        }
        if schedule { channel.eventLoop.execute { self.drain() } }
    }

    private func reserve(_ bytes: Int) throws {
        guard channel.isActive else {
            throw TransportError(.unreachable, "connection to \(peer.node) is closed")
        }
        guard budget.reserve(bytes) else {
            throw TransportError(
                .overloaded,
                "\(budget.pendingBytes) bytes already wait for \(peer.node) (TransportConfiguration.maxPendingOutboundBytes)"
            )
        }
    }

    /// Runs once per batch on the event loop: one write per packed buffer, one flush.
    private func drain() {
        let buffers = batch.withLock { batch in
            batch.closePacking()
            batch.drainScheduled = false
            defer { batch.ready.removeAll(keepingCapacity: true) }
            return batch.ready
        }
        for buffer in buffers {
            channel.write(buffer, promise: nil)
        }
        channel.flush()
    }

    /// Closes the connection; pending sends are dropped.
    public func close() {
        channel.close(promise: nil)
    }
}

extension PeerConnection.Batch {
    mutating func closePacking() {
        if let packing {
            ready.append(packing)
            self.packing = nil
        }
    }

    /// True when the caller must schedule the drain (the first send since the last drain).
    mutating func scheduleDrain() -> Bool {
        if drainScheduled { return false }
        drainScheduled = true
        return true
    }
}
