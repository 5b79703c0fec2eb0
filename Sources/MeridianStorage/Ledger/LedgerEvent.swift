import Foundation

/// One recorded ledger event, as read back.
public struct LedgerEvent: Hashable, Sendable {
    public var player: PlayerID
    public var sequence: Int64
    public var kind: LedgerEventKind
    public var idempotencyKey: String
    /// The player's epoch when the event was written.
    public var epoch: Epoch
    public var tradeID: TradeID?
    public var reason: String
    public var recordedAt: Date
    /// Signed change per item (credits positive, debits negative).
    public var deltas: [ItemKind: Int64]
    /// Balance of each touched item right after this event.
    public var balancesAfter: ItemQuantities

    public init(
        player: PlayerID, sequence: Int64, kind: LedgerEventKind, idempotencyKey: String, epoch: Epoch,
        tradeID: TradeID?, reason: String, recordedAt: Date, deltas: [ItemKind: Int64], balancesAfter: ItemQuantities
    ) {
        self.player = player
        self.sequence = sequence
        self.kind = kind
        self.idempotencyKey = idempotencyKey
        self.epoch = epoch
        self.tradeID = tradeID
        self.reason = reason
        self.recordedAt = recordedAt
        self.deltas = deltas
        self.balancesAfter = balancesAfter
    }
}

/// A recorded replay: an append whose idempotency key had already been applied.
public struct LedgerReplay: Hashable, Sendable {
    public var player: PlayerID
    public var idempotencyKey: String
    /// The sequence of the original event the replay returned.
    public var sequence: Int64
    public var replayedAt: Date

    public init(player: PlayerID, idempotencyKey: String, sequence: Int64, replayedAt: Date) {
        self.player = player
        self.idempotencyKey = idempotencyKey
        self.sequence = sequence
        self.replayedAt = replayedAt
    }
}
