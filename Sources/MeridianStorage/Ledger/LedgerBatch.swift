import Foundation

/// The reads and the write a backend provides inside one ledger transaction.
///
/// ``lockPlayers(_:)`` must lock the players' rows until commit (PostgreSQL: `SELECT … FOR UPDATE` in
/// id order, so concurrent batches cannot deadlock; SQLite: the single writer already excludes
/// everyone), and every later read must see the latest committed data.
protocol LedgerTransaction {
    /// Outbox rows by trade id, locked for update.
    func loadOutbox(_ ids: [TradeID]) async throws -> [TradeID: TradeOutboxEntry]
    func lockPlayers(_ ids: [PlayerID]) async throws -> [PlayerID: LedgerPlayerRow]
    func loadBalances(_ ids: [PlayerID]) async throws -> [PlayerID: ItemQuantities]
    func loadPostings(_ keys: [PostingKey]) async throws -> [PostingKey: StoredPosting]
    func loadInbox(_ ids: [TradeID]) async throws -> [TradeID: TradeInboxRecord]
    func write(_ plan: LedgerWritePlan) async throws
}

/// Runs a batch of ledger commands in an open transaction: load, decide with ``LedgerPlanner``, write.
enum LedgerBatch {
    static func run(
        _ commands: [LedgerCommand],
        in transaction: some LedgerTransaction,
        now: Date,
        snapshotInterval: Int64
    ) async throws -> [Result<LedgerReceipt, StorageError>] {
        var state = LedgerBatchState()

        // Refunds name only a trade: its outbox row says whose ledger they touch.
        var outboxIDs: [TradeID] = []
        var inboxIDs: [TradeID] = []
        for command in commands {
            switch command {
            case .tradeOut(let request): outboxIDs.append(request.tradeID)
            case .tradeRefund(let id): outboxIDs.append(id)
            case .tradeIn(let delivery): inboxIDs.append(delivery.tradeID)
            case .append: break
            }
        }
        if !outboxIDs.isEmpty {
            state.outbox = try await transaction.loadOutbox(unique(outboxIDs))
        }

        var players: [PlayerID] = []
        var keys: [PostingKey] = []
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
            }
        }
        let playerIDs = unique(players).sorted { $0.uuidString < $1.uuidString }
        state.players = try await transaction.lockPlayers(playerIDs)
        let present = playerIDs.filter { state.players[$0] != nil }
        if !present.isEmpty {
            state.balances = try await transaction.loadBalances(present)
            state.postings = try await transaction.loadPostings(unique(keys.filter { state.players[$0.player] != nil }))
        }
        if !inboxIDs.isEmpty {
            state.inbox = try await transaction.loadInbox(unique(inboxIDs))
        }

        var planner = LedgerPlanner(state: state, now: now, snapshotInterval: snapshotInterval)
        let results = commands.map { planner.apply($0) }
        if !planner.plan.isEmpty {
            try await transaction.write(planner.plan)
        }
        return results
    }

    private static func unique<T: Hashable>(_ values: [T]) -> [T] {
        var seen = Set<T>()
        return values.filter { seen.insert($0).inserted }
    }
}
