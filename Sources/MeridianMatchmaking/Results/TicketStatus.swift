/// Where a ticket stands, for the player waiting on it.
public enum TicketStatus: Sendable, Hashable {
    /// Queued: why it has not been matched yet, its current window (± rating points) and how
    /// long it has waited since it was first enqueued.
    case waiting(reason: String, window: Double, waited: Duration)
    /// Not in this pool: never enqueued, cancelled, matched or overflowed.
    case notQueued
}
