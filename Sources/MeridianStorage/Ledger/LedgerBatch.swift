import Foundation

/// The reads and the write a backend provides inside one ledger transaction.
///
/// ``loadState(players:keys:matches:)`` reads the players, all their balances, the events already
/// recorded under the keys and which of the matches are in the match history, as of one point in time. ``write(_:decidedOn:)`` must then either apply
/// the plan only if no player it appends to changed since (sequence, epoch, state), or fail with
/// ``LedgerWriteConflict`` — by locking the players before reading (SQLite: its single writer
/// excludes everyone), or by a compare-and-set in the write (PostgreSQL).
protocol LedgerTransaction {
    /// Outbox rows by trade id, locked until the transaction ends.
    func loadOutbox(_ ids: [TradeID]) async throws -> [TradeID: TradeOutboxEntry]
    func loadState(players: [PlayerID], keys: [PostingKey], matches: [MatchKey]) async throws -> LedgerBatchState
    func loadInbox(_ ids: [TradeID]) async throws -> [TradeID: TradeInboxRecord]
    func write(_ plan: LedgerWritePlan, decidedOn players: [PlayerID: LedgerPlayerRow]) async throws
}

/// A player the batch appends to changed between the batch's read and its write; the transaction
/// must be rolled back and the batch decided again.
struct LedgerWriteConflict: Error {
    var expected: Int
    var updated: Int
}

/// Runs a batch of ledger commands in an open transaction: load, decide with ``LedgerPlanner``, write.
enum LedgerBatch {
    /// The commands' results and the batch's players as the batch left them (for callers that report
    /// more than a receipt, such as ``RegionStore/recordMatch(_:epoch:)``'s progression).
    struct Outcome: Sendable {
        var results: [Result<LedgerReceipt, StorageError>]
        var players: [PlayerID: LedgerPlayerRow]
    }

    static func run(
        _ commands: [LedgerCommand],
        in transaction: some LedgerTransaction,
        now: Date,
        snapshotInterval: Int64
    ) async throws -> Outcome {
        var state = LedgerBatchState()

        // Refunds name only a trade: its outbox row says whose ledger they touch.
        var outboxIDs: [TradeID] = []
        var inboxIDs: [TradeID] = []
        for command in commands {
            switch command {
            case .tradeOut(let request): outboxIDs.append(request.tradeID)
            case .tradeRefund(let id): outboxIDs.append(id)
            case .tradeIn(let delivery): inboxIDs.append(delivery.tradeID)
            case .append, .matchResult: break
            }
        }
        if !outboxIDs.isEmpty {
            state.outbox = try await transaction.loadOutbox(unique(outboxIDs))
        }

        var players: [PlayerID] = []
        var keys: [PostingKey] = []
        var matches: [MatchKey] = []
        for command in commands {
            switch command {
            case .append(let append):
                players.append(append.player)
                keys.append(PostingKey(player: append.player, key: append.idempotencyKey))
            case .tradeOut(let request):
                players.append(request.giver)
                keys.append(PostingKey(player: request.giver, key: TradeKeys.out(request.tradeID)))
            case .tradeIn(let delivery):
                players.append(delivery.receiver)
                keys.append(PostingKey(player: delivery.receiver, key: TradeKeys.in(delivery.tradeID)))
            case .tradeRefund(let id):
                if let entry = state.outbox[id] {
                    players.append(entry.giver)
                    keys.append(PostingKey(player: entry.giver, key: TradeKeys.refund(id)))
                }
            case .matchResult(let application):
                players.append(application.record.player)
                keys.append(PostingKey(player: application.record.player, key: application.idempotencyKey))
                matches.append(MatchKey(player: application.record.player, match: application.record.matchID))
            }
        }
        let playerIDs = unique(players).sorted(by: UUID.byteOrder)
        let loaded = try await transaction.loadState(players: playerIDs, keys: unique(keys), matches: unique(matches))
        state.players = loaded.players
        state.balances = loaded.balances
        state.postings = loaded.postings
        state.recordedMatches = loaded.recordedMatches
        if !inboxIDs.isEmpty {
            state.inbox = try await transaction.loadInbox(unique(inboxIDs))
        }

        var planner = LedgerPlanner(state: state, now: now, snapshotInterval: snapshotInterval)
        let results = commands.map { planner.apply($0) }
        if !planner.plan.isEmpty {
            try await transaction.write(planner.plan, decidedOn: loaded.players)
        }
        return Outcome(results: results, players: planner.state.players)
    }

    private static func unique<T: Hashable>(_ values: [T]) -> [T] {
        var seen = Set<T>()
        return values.filter { seen.insert($0).inserted }
    }
}
