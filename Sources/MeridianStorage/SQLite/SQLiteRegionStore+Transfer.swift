import Foundation
import Logging
import MeridianMatchmaking
import SQLiteNIO

extension SQLiteRegionStore {
    public func exportPlayer(_ id: PlayerID) async throws(StorageError) -> PlayerExport {
        try await database.read { connection in
            guard let export = try await Self.loadExport(id, on: connection) else { throw StorageError.playerNotFound(id) }
            let pending = try await connection.query(
                "SELECT COUNT(*) AS pending FROM trade_outbox WHERE giver = ? AND status = 'pending'", [SQLiteValue.uuid(id)]
            ).first?.int64("pending") ?? 0
            try TransferExportRule.check(export.profile, pendingTradesOut: pending)
            return export
        }
    }

    public func importPlayer(_ export: PlayerExport, epoch: Epoch) async throws(StorageError) -> PlayerProfile {
        let logger = self.logger
        return try await database.write { connection in
            let id = export.player
            let existing = try await Self.loadProfile(id, on: connection)
            var stored: PlayerExport?
            if existing?.state == .incoming { stored = try await Self.loadExport(id, on: connection) }
            let decision = try PlayerImport.decide(export, epoch: epoch, existing: existing, storedCopy: stored)
            if decision == .unchanged {
                return try await Self.requireProfile(id, on: connection)
            }
            // A replaced copy's activation is carried past: a home actor that claimed the player
            // before it left must not match a claim made after it came back.
            var replacedActivation: Int64?
            if decision == .replace {
                let previous = try await connection.query("SELECT activation FROM players WHERE player_id = ?", [SQLiteValue.uuid(id)])
                    .first.map { try $0.int64("activation") } ?? 0
                replacedActivation = previous
                try await Self.deletePlayer(id, on: connection)
            }
            try await Self.insertCopy(export, epoch: epoch, on: connection)
            if let previous = replacedActivation {
                _ = try await connection.query("UPDATE players SET activation = ? WHERE player_id = ?", [SQLiteValue.int(previous + 1), SQLiteValue.uuid(id)])
            }
            logger.debug("player imported", metadata: [
                "meridian.player": "\(id)", "meridian.epoch": "\(epoch)", "meridian.ledger.sequence": "\(export.profile.ledgerSequence)",
                "meridian.player.replaced": "\(existing?.state.rawValue ?? "none")",
            ])
            return try await Self.requireProfile(id, on: connection)
        }
    }

    public func activateIncoming(_ id: PlayerID, epoch: Epoch) async throws(StorageError) -> PlayerProfile {
        try await transition(id) { profile throws(StorageError) in
            profile.state = try PlayerTransitions.activate(id, from: profile.state, current: profile.epoch, to: epoch)
        }
    }

    public func discardIncoming(_ id: PlayerID) async throws(StorageError) {
        let logger = self.logger
        try await database.write { connection in
            guard let profile = try await Self.loadProfile(id, on: connection) else { return }
            try PlayerTransitions.discard(id, from: profile.state)
            try await Self.deletePlayer(id, on: connection)
            logger.debug("incoming player discarded", metadata: ["meridian.player": "\(id)", "meridian.epoch": "\(profile.epoch)"])
        }
    }

    /// The player's data as one export, or nil if absent; run inside a transaction.
    static func loadExport(_ id: PlayerID, on connection: SQLiteConnection) async throws -> PlayerExport? {
        guard let profile = try await loadProfile(id, on: connection) else { return nil }
        let key = SQLiteValue.uuid(id)
        let matches = try await connection.query(
            "SELECT match_id, finished_at, outcome, xp_awarded, summary FROM match_history WHERE player_id = ? ORDER BY finished_at, match_id", [key]
        ).map { row throws(StorageError) in try matchRecord(row, of: id) }
        let balances = try quantities(try await connection.query("SELECT item, quantity FROM ledger_balances WHERE player_id = ?", [key]), column: "quantity")
        let snapshotRows = try await connection.query(
            "SELECT seq, item, quantity FROM ledger_snapshots WHERE player_id = ? ORDER BY seq, item", [key]
        ).map { row throws(StorageError) in (sequence: try row.int64("seq"), item: ItemKind(try row.string("item")), quantity: try row.int64("quantity")) }
        return PlayerExport(
            profile: profile, matches: matches, events: try await loadEvents(of: id, after: 0, limit: .max, on: connection),
            replays: try await loadReplays(of: id, on: connection), balances: balances, snapshots: PlayerExport.snapshots(snapshotRows)
        )
    }

    /// Deletes every row of the player (children first: `match_history` references `players`).
    static func deletePlayer(_ id: PlayerID, on connection: SQLiteConnection) async throws {
        for table in ["ledger_lines", "ledger_events", "ledger_balances", "ledger_snapshots", "ledger_replays", "match_history", "players"] {
            _ = try await connection.query("DELETE FROM \(table) WHERE player_id = ?", [SQLiteValue.uuid(id)])
        }
    }

    /// Writes the player row (`incoming` at `epoch`) and every row of the export.
    static func insertCopy(_ export: PlayerExport, epoch: Epoch, on connection: SQLiteConnection) async throws {
        let profile = export.incomingProfile(epoch: epoch)
        _ = try await connection.query(
            """
            INSERT INTO players (player_id, display_name, home_region, created_at, epoch, state, xp, level, ledger_seq,
                                 skill_rating, skill_deviation, skill_volatility)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [SQLiteValue.uuid(profile.id), .text(profile.displayName), .text(profile.homeRegion), SQLiteValue.date(profile.createdAt),
             SQLiteValue.int(profile.epoch.rawValue), .text(profile.state.rawValue), SQLiteValue.int(profile.progression.xp),
             .integer(profile.progression.level), SQLiteValue.int(profile.ledgerSequence),
             .float(profile.skill.rating), .float(profile.skill.deviation), .float(profile.skill.volatility)]
        )
        let rows = PlayerCopyRows(export)
        try await insert("match_history (player_id, match_id, finished_at, outcome, xp_awarded, summary)", columns: 6, rows.matches, on: connection) { match in
            [SQLiteValue.uuid(match.player), SQLiteValue.uuid(match.matchID), SQLiteValue.date(match.finishedAt), .text(match.outcome.rawValue),
             SQLiteValue.int(match.xpAwarded), .blob(match.summary)]
        }
        try await insert("ledger_events (player_id, seq, kind, idempotency_key, epoch, trade_id, reason, recorded_at)", columns: 8, rows.events, on: connection) { event in
            [SQLiteValue.uuid(event.player), SQLiteValue.int(event.sequence), .text(event.kind.rawValue), .text(event.idempotencyKey),
             SQLiteValue.int(event.epoch.rawValue), SQLiteValue.optionalUUID(event.tradeID), .text(event.reason), SQLiteValue.date(event.recordedAt)]
        }
        try await insert("ledger_lines (player_id, seq, item, delta, balance_after)", columns: 5, rows.lines, on: connection) { line in
            [SQLiteValue.uuid(line.player), SQLiteValue.int(line.sequence), .text(line.item.rawValue), SQLiteValue.int(line.delta), SQLiteValue.int(line.balanceAfter)]
        }
        try await insert("ledger_balances (player_id, item, quantity, as_of_seq)", columns: 4, rows.balances, on: connection) { balance in
            [SQLiteValue.uuid(balance.player), .text(balance.item.rawValue), SQLiteValue.int(balance.quantity), SQLiteValue.int(balance.asOfSequence)]
        }
        try await insert("ledger_snapshots (player_id, seq, item, quantity)", columns: 4, rows.snapshots, on: connection) { line in
            [SQLiteValue.uuid(line.player), SQLiteValue.int(line.sequence), .text(line.item.rawValue), SQLiteValue.int(line.quantity)]
        }
        try await insert("ledger_replays (player_id, idempotency_key, seq, replayed_at)", columns: 4, rows.replays, on: connection) { replay in
            [SQLiteValue.uuid(replay.player), .text(replay.idempotencyKey), SQLiteValue.int(replay.sequence), SQLiteValue.date(replay.replayedAt)]
        }
    }

    /// One multi-row `INSERT INTO <table> VALUES …` per chunk of `rows`, in order.
    private static func insert<Row>(
        _ table: String, columns: Int, _ rows: [Row], on connection: SQLiteConnection, binds: (Row) -> [SQLiteData]
    ) async throws {
        for part in rows.chunks(of: SQLiteLedgerTransaction.chunk) {
            _ = try await connection.query("INSERT INTO \(table) VALUES \(SQLiteValue.tuples(rows: part.count, columns: columns))", part.flatMap(binds))
        }
    }
}
