import NIOCore

/// Measures input → delta latency: remembers when each input sequence was sent and, when a
/// delta reports `last_input >= S`, yields how long S took to show up in the world.
///
/// Bounded: a client that stops receiving deltas forgets its oldest stamps.
struct InputLatencyTracker: Sendable {
    private var stamps = CircularBuffer<(sequence: UInt32, sentAt: NIODeadline)>()
    static let capacity = 512

    /// Records that `sequence` was sent at `now`. Sequences must increase.
    mutating func sent(_ sequence: UInt32, at now: NIODeadline) {
        if let last = stamps.last, last.sequence >= sequence { return }
        if stamps.count >= Self.capacity { stamps.removeFirst() }
        stamps.append((sequence, now))
    }

    /// Removes every stamp up to `lastInput` and returns their latencies, oldest first.
    mutating func applied(upTo lastInput: UInt32, at now: NIODeadline) -> [Duration] {
        var latencies: [Duration] = []
        while let first = stamps.first, first.sequence <= lastInput {
            stamps.removeFirst()
            latencies.append(.nanoseconds((now - first.sentAt).nanoseconds))
        }
        return latencies
    }

    mutating func reset() { stamps.removeAll() }
}
