/// The next step of a trade, decided from what the two stores record. Pure: the stores are the only
/// state, so a coordinator that crashed anywhere resumes by asking again.
public enum TradeAction: Hashable, Sendable {
    /// Credit the receiver (or, if they cannot take it, record the rejection).
    case deliver
    /// The receiver took delivery: mark the giver's outbox row delivered.
    case acknowledgeDelivery
    /// The receiver rejected the trade: refund the giver.
    case refund
    /// Nothing left to do.
    case finished(TradeStatus)
}

enum TradeSettlement {
    static func next(outbox: TradeOutboxEntry, inbox: TradeInboxRecord?) -> TradeAction {
        switch (outbox.status, inbox?.decision) {
        case (.delivered, _): .finished(.delivered)
        case (.refunded, _): .finished(.refunded)
        case (.pending, nil): .deliver
        case (.pending, .delivered?): .acknowledgeDelivery
        case (.pending, .rejected?): .refund
        }
    }

    /// Whether a trade-in refusal means the receiver can never take the trade in that store.
    static func receiverCannotTake(_ error: StorageError) -> Bool {
        switch error.code {
        case .playerNotFound, .tombstoned: true
        default: false
        }
    }
}
