import NIOCore

/// A FIFO of items each released at its deadline, for the simulated one-way delay.
///
/// One scheduled task at a time for the head of the line rather than one per item: items keep
/// their order (equal deadlines could otherwise fire in any order) and a busy client schedules
/// at most one timer per direction.
struct DelayLine<Item> {
    private var items = CircularBuffer<(deadline: NIODeadline, item: Item)>()
    /// Whether a release task is scheduled.
    var isScheduled = false

    var isEmpty: Bool { items.isEmpty }
    var nextDeadline: NIODeadline? { items.first?.deadline }

    mutating func append(_ item: Item, deadline: NIODeadline) {
        items.append((deadline, item))
    }

    /// Removes and returns the items due at `now`, oldest first.
    mutating func popDue(now: NIODeadline) -> [Item] {
        var due: [Item] = []
        while let first = items.first, first.deadline <= now {
            due.append(items.removeFirst().item)
        }
        return due
    }

    /// Removes everything (the connection is gone).
    mutating func removeAll() -> [Item] {
        defer { items.removeAll() }
        return items.map(\.item)
    }
}
