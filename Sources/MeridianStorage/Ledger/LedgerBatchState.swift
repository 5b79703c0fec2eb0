import Foundation

/// A player's row as the ledger needs it, read under the player's row lock.
struct LedgerPlayerRow: Hashable, Sendable {
    var epoch: Epoch
    /// The player's current activation (see ``Activation``).
    var activation: Activation = 0
    var state: PlayerState
    var sequence: Int64
    /// Total XP (match results add to it in the batch).
    var xp: Int64
}

/// Identifies a player's match history row.
struct MatchKey: Hashable, Sendable {
    var player: PlayerID
    var match: MatchID
}

/// Identifies an event by its player and idempotency key.
struct PostingKey: Hashable, Sendable {
    var player: PlayerID
    var key: String
}

/// An already-recorded event, enough to answer a replay and to compare a retried request with it.
struct StoredPosting: Hashable, Sendable {
    var sequence: Int64
    var kind: LedgerEventKind
    var tradeID: TradeID?
    var deltas: [ItemKind: Int64]
    var balancesAfter: ItemQuantities
}

/// Everything a batch's decisions depend on, loaded inside the batch's transaction after the
/// players' rows were locked (so nothing of it can change until commit).
struct LedgerBatchState: Sendable {
    var players: [PlayerID: LedgerPlayerRow] = [:]
    /// Every balance of every player in the batch (needed for snapshots).
    var balances: [PlayerID: ItemQuantities] = [:]
    /// Events already recorded under the batch's idempotency keys.
    var postings: [PostingKey: StoredPosting] = [:]
    /// Outbox rows of the batch's trade-outs and refunds.
    var outbox: [TradeID: TradeOutboxEntry] = [:]
    /// Inbox decisions on the batch's trade-ins.
    var inbox: [TradeID: TradeInboxRecord] = [:]
    /// The batch's match results already in the match history.
    var recordedMatches: Set<MatchKey> = []
}
