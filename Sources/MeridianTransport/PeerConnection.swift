import NIOCore
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
    private let batch = Mutex<[ByteBuffer]>([])

    package init(peer: PeerIdentity, dialed: Bool, channel: any Channel, budget: OutboundBudget) {
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
        let frame = try EnvelopeCoding.frame(envelope, allocator: channel.allocator)
        try send(frame: frame)
    }

    /// Queues an already framed envelope (see ``EnvelopeCoding/frame(_:allocator:)``).
    package func send(frame: ByteBuffer) throws {
        guard channel.isActive else {
            throw TransportError(.unreachable, "connection to \(peer.node) is closed")
        }
        guard budget.reserve(frame.readableBytes) else {
            throw TransportError(
                .overloaded,
                "\(budget.pendingBytes) bytes already wait for \(peer.node) (TransportConfiguration.maxPendingOutboundBytes)"
            )
        }
        let first = batch.withLock { batch in
            batch.append(frame)
            return batch.count == 1
        }
        if first {
            channel.eventLoop.execute { self.drain() }
        }
    }

    private func drain() {
        let frames = batch.withLock { batch in
            let frames = batch
            batch.removeAll(keepingCapacity: true)
            return frames
        }
        for frame in frames {
            channel.write(frame, promise: nil)
        }
        channel.flush()
    }

    /// Closes the connection; pending sends are dropped.
    public func close() {
        channel.close(promise: nil)
    }
}
