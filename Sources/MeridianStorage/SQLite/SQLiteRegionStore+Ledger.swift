import Foundation
import SQLiteNIO

extension SQLiteRegionStore {
    public func applyLedger(_ commands: [LedgerCommand]) async throws(StorageError) -> [Result<LedgerReceipt, StorageError>] {
        guard !commands.isEmpty else { return [] }
        return try await runLedger(commands).results
    }

    func runLedger(_ commands: [LedgerCommand]) async throws(StorageError) -> LedgerBatch.Outcome {
        let interval = configuration.snapshotInterval
        return try await database.write { connection in
            try await LedgerBatch.run(commands, in: SQLiteLedgerTransaction(connection: connection), now: Date(), snapshotInterval: interval)
        }
    }

    public func balances(of player: PlayerID) async throws(StorageError) -> ItemQuantities {
        try await database.exclusive { connection in
            let rows = try await connection.query("SELECT item, quantity FROM ledger_balances WHERE player_id = ?", [SQLiteValue.uuid(player)])
            return try Self.quantities(rows, column: "quantity")
        }
    }

    public func recomputedBalances(of player: PlayerID) async throws(StorageError) -> ItemQuantities {
        try await database.read { connection in
            let id = SQLiteValue.uuid(player)
            let latest = try await connection.query("SELECT COALESCE(MAX(seq), 0) AS seq FROM ledger_snapshots WHERE player_id = ?", [id])
            let snapshotSequence = try latest.first?.int64("seq") ?? 0
            var balances = try Self.quantities(
                try await connection.query("SELECT item, quantity FROM ledger_snapshots WHERE player_id = ? AND seq = ?", [id, SQLiteValue.int(snapshotSequence)]),
                column: "quantity"
            )
            let tail = try await connection.query(
                "SELECT item, SUM(delta) AS total FROM ledger_lines WHERE player_id = ? AND seq > ? GROUP BY item",
                [id, SQLiteValue.int(snapshotSequence)]
            )
            for (item, delta) in try Self.quantities(tail, column: "total") { balances[item, default: 0] += delta }
            return balances.filter { $0.value != 0 }
        }
    }

    public func ledgerEvents(of player: PlayerID, after sequence: Int64, limit: Int) async throws(StorageError) -> [LedgerEvent] {
        try await database.read { connection in try await Self.loadEvents(of: player, after: sequence, limit: limit, on: connection) }
    }

    public func ledgerReplays(of player: PlayerID) async throws(StorageError) -> [LedgerReplay] {
        try await database.exclusive { connection in try await Self.loadReplays(of: player, on: connection) }
    }

    /// The player's events after `sequence`, oldest first; run inside a transaction for a consistent read.
    static func loadEvents(of player: PlayerID, after sequence: Int64, limit: Int, on connection: SQLiteConnection) async throws -> [LedgerEvent] {
        let id = SQLiteValue.uuid(player)
        let events = try await connection.query(
            """
            SELECT seq, kind, idempotency_key, epoch, trade_id, reason, recorded_at FROM ledger_events
            WHERE player_id = ? AND seq > ? ORDER BY seq LIMIT ?
            """,
            [id, SQLiteValue.int(sequence), .integer(max(0, limit))]
        )
        guard let last = try events.last?.int64("seq") else { return [] }
        let lines = try await connection.query(
            "SELECT seq, item, delta, balance_after FROM ledger_lines WHERE player_id = ? AND seq > ? AND seq <= ? ORDER BY seq, item",
            [id, SQLiteValue.int(sequence), SQLiteValue.int(last)]
        )
        var deltas: [Int64: [ItemKind: Int64]] = [:]
        var after: [Int64: ItemQuantities] = [:]
        for line in lines {
            let seq = try line.int64("seq")
            let item = ItemKind(try line.string("item"))
            deltas[seq, default: [:]][item] = try line.int64("delta")
            after[seq, default: [:]][item] = try line.int64("balance_after")
        }
        return try events.map { row throws(StorageError) in
            let seq = try row.int64("seq")
            return LedgerEvent(
                player: player, sequence: seq, kind: try row.enumValue("kind", as: LedgerEventKind.self),
                idempotencyKey: try row.string("idempotency_key"), epoch: Epoch(try row.int64("epoch")),
                tradeID: try row.optionalUUID("trade_id"), reason: try row.string("reason"), recordedAt: try row.date("recorded_at"),
                deltas: deltas[seq] ?? [:], balancesAfter: after[seq] ?? [:]
            )
        }
    }

    static func loadReplays(of player: PlayerID, on connection: SQLiteConnection) async throws -> [LedgerReplay] {
        let rows = try await connection.query(
            "SELECT idempotency_key, seq, replayed_at FROM ledger_replays WHERE player_id = ? ORDER BY id", [SQLiteValue.uuid(player)]
        )
        return try rows.map { row throws(StorageError) in
            LedgerReplay(player: player, idempotencyKey: try row.string("idempotency_key"), sequence: try row.int64("seq"), replayedAt: try row.date("replayed_at"))
        }
    }

    static func quantities(_ rows: [SQLiteRow], column: String) throws(StorageError) -> ItemQuantities {
        var result: ItemQuantities = [:]
        for row in rows { result[ItemKind(try row.string("item"))] = try row.int64(column) }
        return result
    }
}
