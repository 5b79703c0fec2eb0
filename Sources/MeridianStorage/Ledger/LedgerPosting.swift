import Foundation

/// A command reduced to what it does to one player's ledger.
struct LedgerPosting: Hashable, Sendable {
    enum Fence: Hashable, Sendable {
        /// A write from the player's actor: the epoch must be the current one, and so must the
        /// activation when one is presented.
        case epoch(Epoch, activation: Activation?)
        /// A system write (trade delivery or refund): no epoch, but the player must be active.
        case system
    }

    var player: PlayerID
    var fence: Fence
    var idempotencyKey: String
    var kind: LedgerEventKind
    /// Signed change per item.
    var deltas: [ItemKind: Int64]
    var expectedSequence: Int64?
    var tradeID: TradeID?
    var reason: String

    /// Whether `stored` records this same request (so a retry may be answered with it).
    func matches(_ stored: StoredPosting) -> Bool {
        stored.kind == kind && stored.tradeID == tradeID && stored.deltas == deltas
    }
}

/// Request validation shared by the planner; pure.
enum LedgerValidation {
    static let maximumReasonLength = 500

    static func key(_ key: String) throws(StorageError) {
        guard !key.isEmpty, key.utf8.count <= LedgerAppend.maximumKeyLength else {
            throw .invalid("an idempotency key has 1 to \(LedgerAppend.maximumKeyLength) bytes, got \(key.utf8.count)")
        }
    }

    static func reason(_ reason: String) throws(StorageError) {
        guard reason.utf8.count <= maximumReasonLength else {
            throw .invalid("a ledger reason has at most \(maximumReasonLength) bytes, got \(reason.utf8.count)")
        }
    }

    /// Checks that `items` is non-empty with positive quantities and valid names.
    static func items(_ items: ItemQuantities, what: String, allowEmpty: Bool = false) throws(StorageError) {
        guard allowEmpty || !items.isEmpty else { throw .invalid("\(what) names no items") }
        for (item, quantity) in items {
            guard !item.rawValue.isEmpty, item.rawValue.utf8.count <= ItemKind.maximumLength else {
                throw .invalid("an item kind has 1 to \(ItemKind.maximumLength) bytes, got \"\(item.rawValue.prefix(40))\"")
            }
            guard quantity > 0 else { throw .invalid("\(what): quantity of \(item) must be positive, got \(quantity)") }
        }
    }

    static func negated(_ items: ItemQuantities) -> [ItemKind: Int64] {
        items.mapValues { -$0 }
    }
}

extension LedgerPosting {
    /// The posting of a grant, consume or purchase.
    init(_ append: LedgerAppend) throws(StorageError) {
        try LedgerValidation.key(append.idempotencyKey)
        try LedgerValidation.reason(append.reason)
        if let expected = append.expectedSequence, expected < 1 {
            throw .invalid("an expected sequence starts at 1, got \(expected)")
        }
        let kind: LedgerEventKind
        let deltas: [ItemKind: Int64]
        switch append.operation {
        case .grant(let items):
            try LedgerValidation.items(items, what: "the grant")
            (kind, deltas) = (.grant, items)
        case .consume(let items):
            try LedgerValidation.items(items, what: "the consume")
            (kind, deltas) = (.consume, LedgerValidation.negated(items))
        case .purchase(let items, let price):
            try LedgerValidation.items(items, what: "the purchase")
            try LedgerValidation.items(price, what: "the price", allowEmpty: true)
            if let both = items.keys.first(where: { price[$0] != nil }) {
                throw .invalid("\(both) cannot be both bought and paid with in one purchase")
            }
            (kind, deltas) = (.purchase, items.merging(LedgerValidation.negated(price)) { credit, _ in credit })
        }
        self.init(
            player: append.player, fence: .epoch(append.epoch, activation: append.activation), idempotencyKey: append.idempotencyKey,
            kind: kind, deltas: deltas, expectedSequence: append.expectedSequence, tradeID: nil, reason: append.reason
        )
    }

    /// The giver's debit of a trade-out.
    init(_ request: TradeOutRequest) throws(StorageError) {
        try LedgerValidation.items(request.items, what: "the trade")
        try LedgerValidation.reason(request.reason)
        guard request.giver != request.receiver else { throw .invalid("a player cannot trade with themselves") }
        guard !request.destinationRegion.isEmpty else { throw .invalid("a trade needs the receiver's home region") }
        self.init(
            player: request.giver, fence: .epoch(request.giverEpoch, activation: request.giverActivation), idempotencyKey: TradeKeys.out(request.tradeID),
            kind: .tradeOut, deltas: LedgerValidation.negated(request.items), expectedSequence: nil,
            tradeID: request.tradeID, reason: request.reason
        )
    }

    /// The receiver's credit of a trade-in.
    init(_ delivery: TradeDelivery) throws(StorageError) {
        try LedgerValidation.items(delivery.items, what: "the trade")
        self.init(
            player: delivery.receiver, fence: .system, idempotencyKey: TradeKeys.in(delivery.tradeID),
            kind: .tradeIn, deltas: delivery.items, expectedSequence: nil, tradeID: delivery.tradeID,
            reason: "trade from \(delivery.giver.uuidString.lowercased())"
        )
    }

    /// The giver's refund of a trade whose outbox row is `entry`.
    init(refundOf entry: TradeOutboxEntry) {
        self.init(
            player: entry.giver, fence: .system, idempotencyKey: TradeKeys.refund(entry.tradeID),
            kind: .tradeRefund, deltas: entry.items, expectedSequence: nil, tradeID: entry.tradeID,
            reason: "refund of trade to \(entry.receiver.uuidString.lowercased())"
        )
    }
}

extension LedgerPosting {
    /// The reward event of a match result (its history row, XP and rating are the planner's side effects).
    init(_ application: MatchResultApplication) throws(StorageError) {
        try application.record.validate()
        try application.skillAfter?.validate()
        try LedgerValidation.items(application.rewards, what: "the match rewards", allowEmpty: true)
        self.init(
            player: application.record.player, fence: .epoch(application.epoch, activation: application.activation), idempotencyKey: application.idempotencyKey,
            kind: .matchReward, deltas: application.rewards, expectedSequence: nil, tradeID: nil,
            reason: "match \(application.record.matchID.uuidString.lowercased()) \(application.record.outcome.rawValue)"
        )
    }
}
