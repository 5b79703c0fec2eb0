import Foundation
import MeridianMatchmaking
import NIOCore

/// The rows a ledger batch writes, computed by ``LedgerPlanner`` without I/O; a backend inserts
/// them in the batch's transaction.
struct LedgerWritePlan: Sendable {
    struct Event: Hashable, Sendable {
        var player: PlayerID
        var sequence: Int64
        var kind: LedgerEventKind
        var idempotencyKey: String
        var epoch: Epoch
        var tradeID: TradeID?
        var reason: String
        var recordedAt: Date
    }

    struct Line: Hashable, Sendable {
        var player: PlayerID
        var sequence: Int64
        var item: ItemKind
        var delta: Int64
        var balanceAfter: Int64
    }

    struct Balance: Hashable, Sendable {
        var player: PlayerID
        var item: ItemKind
        var quantity: Int64
        var asOfSequence: Int64
    }

    struct SnapshotLine: Hashable, Sendable {
        var player: PlayerID
        var sequence: Int64
        var item: ItemKind
        var quantity: Int64
    }

    struct Replay: Hashable, Sendable {
        var player: PlayerID
        var idempotencyKey: String
        var sequence: Int64
        var replayedAt: Date
    }

    struct Settlement: Hashable, Sendable {
        var tradeID: TradeID
        var status: TradeStatus
        var settledAt: Date
    }

    /// A match history row.
    struct Match: Hashable, Sendable {
        var player: PlayerID
        var matchID: MatchID
        var finishedAt: Date
        var outcome: MatchOutcome
        var xpAwarded: Int64
        var summary: ByteBuffer
    }

    /// What match results change on a player's row: the final XP and level, and the rating if one was set.
    struct Progress: Hashable, Sendable {
        var xp: Int64
        var level: Int
        var skill: SkillRating?
    }

    var events: [Event] = []
    var lines: [Line] = []
    /// Final balance per touched (player, item): one upsert each.
    var balances: [Balance] = []
    /// Final ledger sequence per player that got events.
    var playerSequences: [PlayerID: Int64] = [:]
    var snapshots: [SnapshotLine] = []
    var replays: [Replay] = []
    var outbox: [TradeOutboxEntry] = []
    var inbox: [TradeInboxRecord] = []
    var settlements: [Settlement] = []
    var matches: [Match] = []
    /// Per player with match results in the batch (each also has an event, so a sequence to write).
    var progress: [PlayerID: Progress] = [:]

    var isEmpty: Bool {
        events.isEmpty && replays.isEmpty && outbox.isEmpty && inbox.isEmpty && settlements.isEmpty
    }
}
