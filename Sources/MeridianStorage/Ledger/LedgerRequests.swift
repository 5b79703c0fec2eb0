import Foundation
import MeridianMatchmaking

/// What a caller asks the ledger to record for a player (trades have their own commands).
public enum LedgerOperation: Hashable, Sendable {
    /// Create items for the player.
    case grant(ItemQuantities)
    /// Use up items; refused if any balance would go negative.
    case consume(ItemQuantities)
    /// Buy `items` for `price` (empty for real-money purchases); refused if the price cannot be paid.
    case purchase(items: ItemQuantities, price: ItemQuantities)
}

/// One append to a player's ledger.
public struct LedgerAppend: Hashable, Sendable {
    public var player: PlayerID
    /// The epoch the writer believes current; a mismatch is refused with ``StorageError/Code/staleEpoch(current:)``.
    public var epoch: Epoch
    /// The writer's activation of the player (its actor's, see ``Activation``); nil for a write
    /// made without a player actor (admin tools, tests), which only the epoch fences.
    public var activation: Activation?
    /// Unique per player. Appending the same key again returns the original receipt and changes nothing.
    public var idempotencyKey: String
    public var operation: LedgerOperation
    /// Why (a quest id, an offer id); kept with the event for support and audit.
    public var reason: String
    /// Optimistic concurrency: the sequence number this event must receive (the player's current
    /// sequence + 1). A mismatch is refused with ``StorageError/Code/sequenceConflict(expected:actual:)``.
    public var expectedSequence: Int64?

    public init(
        player: PlayerID, epoch: Epoch, activation: Activation? = nil, idempotencyKey: String, operation: LedgerOperation,
        reason: String = "", expectedSequence: Int64? = nil
    ) {
        self.player = player
        self.epoch = epoch
        self.activation = activation
        self.idempotencyKey = idempotencyKey
        self.operation = operation
        self.reason = reason
        self.expectedSequence = expectedSequence
    }

    /// The longest idempotency key the stores accept.
    public static let maximumKeyLength = 200
}

/// A command for ``RegionStore/applyLedger(_:)``: everything that appends to a ledger.
public enum LedgerCommand: Hashable, Sendable {
    /// A grant, consume or purchase.
    case append(LedgerAppend)
    /// The giver's leg of a trade: debit into escrow and write the outbox row, in one transaction.
    case tradeOut(TradeOutRequest)
    /// The receiver's leg of a trade: credit the items, idempotent by trade id.
    case tradeIn(TradeDelivery)
    /// Return a trade's escrowed items to its giver (the receiver rejected it), idempotent by trade id.
    case tradeRefund(TradeID)
    /// Apply one player's match result — history row, XP, skill rating and a ``LedgerEventKind/matchReward``
    /// event crediting the rewards — exactly once per (player, match id).
    case matchResult(MatchResultApplication)

    /// The player whose ledger the command appends to, when the command names one
    /// (a refund's giver is only known from the outbox row).
    public var player: PlayerID? {
        switch self {
        case .append(let append): append.player
        case .tradeOut(let request): request.giver
        case .tradeIn(let delivery): delivery.receiver
        case .tradeRefund: nil
        case .matchResult(let application): application.record.player
        }
    }
}

/// One player's match result, applied by ``LedgerCommand/matchResult(_:)`` in one transaction:
///
/// - the ``MatchRecord`` becomes a match history row and its XP is added to the player's progression;
/// - ``skillAfter``, if set, becomes the player's ``PlayerProfile/skill``;
/// - one ``LedgerEventKind/matchReward`` event with idempotency key `match:<match id, lowercase>`
///   credits ``rewards``. It is written also when `rewards` is empty (an event without item lines),
///   so every applied result has a ledger sequence.
///
/// Exactly once per (player, match id): applying it again changes nothing and returns the original
/// receipt with ``LedgerReceipt/replayed`` set (recorded in ``RegionStore/ledgerReplays(of:)``). The
/// first application wins: a retry is compared with it by its rewards only, and different rewards are
/// refused with ``StorageError/Code/idempotencyConflict``. A match recorded by a build before schema
/// version 2 (history without an event) replays with sequence 0 and no balances (its replay is
/// recorded with sequence 0).
///
/// Refused, writing nothing, for a stale epoch, a frozen or tombstoned player, or a player who does
/// not live in the store, with the same ``StorageError`` codes as every ledger command.
public struct MatchResultApplication: Hashable, Sendable {
    /// The match's history row for the player (its `xpAwarded` is added to the player's XP).
    public var record: MatchRecord
    /// The epoch the writer believes current.
    public var epoch: Epoch
    /// The writer's activation of the player (see ``LedgerAppend/activation``).
    public var activation: Activation?
    /// Items the match awards the player; may be empty (a loss, ``MatchOutcome/serverLost``).
    public var rewards: ItemQuantities
    /// The player's rating after the match; nil leaves the stored rating unchanged.
    public var skillAfter: SkillRating?

    public init(record: MatchRecord, epoch: Epoch, activation: Activation? = nil, rewards: ItemQuantities = [:], skillAfter: SkillRating? = nil) {
        self.record = record
        self.epoch = epoch
        self.activation = activation
        self.rewards = rewards
        self.skillAfter = skillAfter
    }

    /// The idempotency key of the match's reward event: `match:<match id, lowercase>`.
    public var idempotencyKey: String { MatchKeys.reward(record.matchID) }
}

/// The idempotency keys of match results.
enum MatchKeys {
    static func reward(_ matchID: MatchID) -> String { "match:" + matchID.uuidString.lowercased() }
}

/// The result of an append: what the event got and what the player holds of each item it touched.
public struct LedgerReceipt: Hashable, Sendable {
    public var player: PlayerID
    /// The event's sequence number in the player's ledger (gapless from 1).
    public var sequence: Int64
    public var kind: LedgerEventKind
    /// The balance of every item the event touched, right after the event.
    public var balancesAfter: ItemQuantities
    /// True when this call was a replay of an already-recorded idempotency key: the receipt is the
    /// original one and nothing was applied again.
    public var replayed: Bool

    public init(player: PlayerID, sequence: Int64, kind: LedgerEventKind, balancesAfter: ItemQuantities, replayed: Bool) {
        self.player = player
        self.sequence = sequence
        self.kind = kind
        self.balancesAfter = balancesAfter
        self.replayed = replayed
    }
}
