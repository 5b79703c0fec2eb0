import Foundation

/// The giver's leg of a trade, as the giver's home-region actor asks for it.
public struct TradeOutRequest: Hashable, Sendable {
    /// Chosen by the caller; retrying with the same id is a replay.
    public var tradeID: TradeID
    public var giver: PlayerID
    /// The giver's current epoch (the trade-out is fenced like any write).
    public var giverEpoch: Epoch
    /// The giver actor's activation (see ``LedgerAppend/activation``).
    public var giverActivation: Activation?
    public var receiver: PlayerID
    /// The receiver's home region, whose store the trade-in goes to.
    public var destinationRegion: String
    /// What moves from giver to receiver (positive quantities).
    public var items: ItemQuantities
    public var reason: String

    public init(
        tradeID: TradeID, giver: PlayerID, giverEpoch: Epoch, giverActivation: Activation? = nil, receiver: PlayerID,
        destinationRegion: String, items: ItemQuantities, reason: String = ""
    ) {
        self.tradeID = tradeID
        self.giver = giver
        self.giverEpoch = giverEpoch
        self.giverActivation = giverActivation
        self.receiver = receiver
        self.destinationRegion = destinationRegion
        self.items = items
        self.reason = reason
    }
}

/// The receiver's leg of a trade, built from the giver store's outbox row.
public struct TradeDelivery: Hashable, Sendable {
    public var tradeID: TradeID
    public var giver: PlayerID
    public var receiver: PlayerID
    public var items: ItemQuantities

    public init(tradeID: TradeID, giver: PlayerID, receiver: PlayerID, items: ItemQuantities) {
        self.tradeID = tradeID
        self.giver = giver
        self.receiver = receiver
        self.items = items
    }
}

/// Where a trade stands in the giver's store.
public enum TradeStatus: String, Hashable, Sendable {
    /// Items are in escrow; the trade-in has not been acknowledged yet.
    case pending
    /// The receiver's store credited the items.
    case delivered
    /// The receiver rejected the trade and the giver got the items back.
    case refunded
}

/// A row of the giver store's trade outbox.
public struct TradeOutboxEntry: Hashable, Sendable {
    public var tradeID: TradeID
    public var giver: PlayerID
    public var receiver: PlayerID
    public var destinationRegion: String
    public var items: ItemQuantities
    public var status: TradeStatus
    public var createdAt: Date
    /// When the status left ``TradeStatus/pending``.
    public var settledAt: Date?

    public init(tradeID: TradeID, giver: PlayerID, receiver: PlayerID, destinationRegion: String, items: ItemQuantities, status: TradeStatus, createdAt: Date, settledAt: Date?) {
        self.tradeID = tradeID
        self.giver = giver
        self.receiver = receiver
        self.destinationRegion = destinationRegion
        self.items = items
        self.status = status
        self.createdAt = createdAt
        self.settledAt = settledAt
    }

    /// The delivery to send to the receiver's store.
    public var delivery: TradeDelivery {
        TradeDelivery(tradeID: tradeID, giver: giver, receiver: receiver, items: items)
    }
}

/// The receiver store's decision on a trade: recorded once, whichever comes first.
public enum TradeDecision: String, Hashable, Sendable {
    /// The items were credited to the receiver.
    case delivered
    /// The receiver cannot take the trade (unknown or moved away); the giver is to be refunded.
    case rejected
}

/// A row of the receiver store's trade inbox.
public struct TradeInboxRecord: Hashable, Sendable {
    public var tradeID: TradeID
    public var receiver: PlayerID
    public var decision: TradeDecision
    public var reason: String
    public var recordedAt: Date

    public init(tradeID: TradeID, receiver: PlayerID, decision: TradeDecision, reason: String, recordedAt: Date) {
        self.tradeID = tradeID
        self.receiver = receiver
        self.decision = decision
        self.reason = reason
        self.recordedAt = recordedAt
    }
}

/// Deterministic idempotency keys of the trade legs: a retried leg is recognised by its trade id alone.
enum TradeKeys {
    static func out(_ id: TradeID) -> String { "trade:\(id.uuidString.lowercased()):out" }
    static func `in`(_ id: TradeID) -> String { "trade:\(id.uuidString.lowercased()):in" }
    static func refund(_ id: TradeID) -> String { "trade:\(id.uuidString.lowercased()):refund" }
}
