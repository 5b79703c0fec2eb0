import Foundation
import Logging
import PostgresNIO

extension PostgresRegionStore {
    public func applyLedger(_ commands: [LedgerCommand]) async throws(StorageError) -> [Result<LedgerReceipt, StorageError>] {
        guard !commands.isEmpty else { return [] }
        return try await runLedger(commands).results
    }

    func runLedger(_ commands: [LedgerCommand]) async throws(StorageError) -> LedgerBatch.Outcome {
        let interval = configuration.snapshotInterval
        let logger = self.logger
        return try await transaction(retries: configuration.transactionRetries) { connection, attempt in
            // First optimistically; after a conflict, lock the players first so the retry cannot conflict again.
            try await LedgerBatch.run(
                commands, in: PostgresLedgerTransaction(connection: connection, logger: logger, lockPlayersFirst: attempt > 0),
                now: Date(), snapshotInterval: interval
            )
        }
    }

    public func balances(of player: PlayerID) async throws(StorageError) -> ItemQuantities {
        let logger = self.logger
        return try await withConnection { connection in
            var result: ItemQuantities = [:]
            let rows = try await connection.query("SELECT item, quantity FROM ledger_balances WHERE player_id = \(player)", logger: logger)
            for try await (item, quantity) in rows.decode((String, Int64).self) { result[ItemKind(item)] = quantity }
            return result
        }
    }

    public func recomputedBalances(of player: PlayerID) async throws(StorageError) -> ItemQuantities {
        let logger = self.logger
        return try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            var snapshotSequence: Int64 = 0
            for try await seq in try await connection.query(
                "SELECT COALESCE(MAX(seq), 0)::bigint FROM ledger_snapshots WHERE player_id = \(player)", logger: logger
            ).decode(Int64.self) {
                snapshotSequence = seq
            }
            var balances: ItemQuantities = [:]
            for try await (item, quantity) in try await connection.query(
                "SELECT item, quantity FROM ledger_snapshots WHERE player_id = \(player) AND seq = \(snapshotSequence)", logger: logger
            ).decode((String, Int64).self) {
                balances[ItemKind(item)] = quantity
            }
            for try await (item, delta) in try await connection.query(
                "SELECT item, SUM(delta)::bigint FROM ledger_lines WHERE player_id = \(player) AND seq > \(snapshotSequence) GROUP BY item",
                logger: logger
            ).decode((String, Int64).self) {
                balances[ItemKind(item), default: 0] += delta
            }
            return balances.filter { $0.value != 0 }
        }
    }

    public func ledgerEvents(of player: PlayerID, after sequence: Int64, limit: Int) async throws(StorageError) -> [LedgerEvent] {
        let logger = self.logger
        return try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            try await Self.loadEvents(of: player, after: sequence, limit: limit, on: connection, logger: logger)
        }
    }

    public func ledgerReplays(of player: PlayerID) async throws(StorageError) -> [LedgerReplay] {
        let logger = self.logger
        return try await withConnection { connection in try await Self.loadReplays(of: player, on: connection, logger: logger) }
    }

    /// The player's events after `sequence`, oldest first; run inside a transaction for a consistent read.
    static func loadEvents(of player: PlayerID, after sequence: Int64, limit: Int, on connection: PostgresConnection, logger: Logger) async throws -> [LedgerEvent] {
        var events: [LedgerEvent] = []
        for try await (seq, kind, key, epoch, tradeID, reason, recordedAt) in try await connection.query(
            """
            SELECT seq, kind, idempotency_key, epoch, trade_id, reason, recorded_at FROM ledger_events
            WHERE player_id = \(player) AND seq > \(sequence) ORDER BY seq LIMIT \(Int64(max(0, limit)))
            """,
            logger: logger
        ).decode((Int64, String, String, Int64, UUID?, String, Date).self) {
            guard let kind = LedgerEventKind(rawValue: kind) else { throw StorageError.corrupt("ledger event \(player)/\(seq) has unknown kind \"\(kind)\"") }
            events.append(LedgerEvent(
                player: player, sequence: seq, kind: kind, idempotencyKey: key, epoch: Epoch(epoch), tradeID: tradeID,
                reason: reason, recordedAt: recordedAt, deltas: [:], balancesAfter: [:]
            ))
        }
        guard let last = events.last?.sequence else { return [] }
        let index = Dictionary(uniqueKeysWithValues: events.enumerated().map { ($0.element.sequence, $0.offset) })
        for try await (seq, item, delta, after) in try await connection.query(
            """
            SELECT seq, item, delta, balance_after FROM ledger_lines
            WHERE player_id = \(player) AND seq > \(sequence) AND seq <= \(last)
            """,
            logger: logger
        ).decode((Int64, String, Int64, Int64).self) {
            guard let position = index[seq] else { continue }
            events[position].deltas[ItemKind(item)] = delta
            events[position].balancesAfter[ItemKind(item)] = after
        }
        return events
    }

    static func loadReplays(of player: PlayerID, on connection: PostgresConnection, logger: Logger) async throws -> [LedgerReplay] {
        var replays: [LedgerReplay] = []
        for try await (key, seq, at) in try await connection.query(
            "SELECT idempotency_key, seq, replayed_at FROM ledger_replays WHERE player_id = \(player) ORDER BY id", logger: logger
        ).decode((String, Int64, Date).self) {
            replays.append(LedgerReplay(player: player, idempotencyKey: key, sequence: seq, replayedAt: at))
        }
        return replays
    }
}
