import Foundation
import MeridianMatchmaking
import SQLiteNIO

/// The ledger batch's reads and writes on the store's single connection, inside `BEGIN IMMEDIATE`.
/// The single writer excludes every other transaction, so nothing read can change before the write.
struct SQLiteLedgerTransaction: LedgerTransaction {
    let connection: SQLiteConnection
    /// Rows per multi-row statement, well under SQLite's 32,766 bound parameters.
    static let chunk = 500

    func loadOutbox(_ ids: [TradeID]) async throws -> [TradeID: TradeOutboxEntry] {
        var result: [TradeID: TradeOutboxEntry] = [:]
        for part in ids.chunks(of: Self.chunk) {
            let entries = try await SQLiteRegionStore.outboxEntries(
                where: "o.trade_id IN (\(SQLiteValue.placeholders(part.count)))", binds: part.map(SQLiteValue.uuid), on: connection
            )
            for entry in entries { result[entry.tradeID] = entry }
        }
        return result
    }

    func loadState(players: [PlayerID], keys: [PostingKey], matches: [MatchKey]) async throws -> LedgerBatchState {
        var state = LedgerBatchState()
        state.players = try await loadPlayers(players)
        let present = players.filter { state.players[$0] != nil }
        guard !present.isEmpty else { return state }
        state.balances = try await loadBalances(present)
        state.postings = try await loadPostings(keys.filter { state.players[$0.player] != nil })
        state.recordedMatches = try await loadMatches(matches.filter { state.players[$0.player] != nil })
        return state
    }

    private func loadPlayers(_ ids: [PlayerID]) async throws -> [PlayerID: LedgerPlayerRow] {
        var result: [PlayerID: LedgerPlayerRow] = [:]
        for part in ids.chunks(of: Self.chunk) {
            let rows = try await connection.query(
                "SELECT player_id, epoch, activation, state, ledger_seq, xp FROM players WHERE player_id IN (\(SQLiteValue.placeholders(part.count)))",
                part.map(SQLiteValue.uuid)
            )
            for row in rows {
                result[try row.uuid("player_id")] = LedgerPlayerRow(
                    epoch: Epoch(try row.int64("epoch")), activation: Activation(try row.int64("activation")), state: try row.enumValue("state", as: PlayerState.self), sequence: try row.int64("ledger_seq"),
                    xp: try row.int64("xp")
                )
            }
        }
        return result
    }

    private func loadBalances(_ ids: [PlayerID]) async throws -> [PlayerID: ItemQuantities] {
        var result: [PlayerID: ItemQuantities] = [:]
        for part in ids.chunks(of: Self.chunk) {
            let rows = try await connection.query(
                "SELECT player_id, item, quantity FROM ledger_balances WHERE player_id IN (\(SQLiteValue.placeholders(part.count)))",
                part.map(SQLiteValue.uuid)
            )
            for row in rows {
                result[try row.uuid("player_id"), default: [:]][ItemKind(try row.string("item"))] = try row.int64("quantity")
            }
        }
        return result
    }

    private func loadPostings(_ keys: [PostingKey]) async throws -> [PostingKey: StoredPosting] {
        var result: [PostingKey: StoredPosting] = [:]
        for part in keys.chunks(of: Self.chunk / 2) {
            let rows = try await connection.query(
                """
                SELECT e.player_id, e.idempotency_key, e.seq, e.kind, e.trade_id, l.item, l.delta, l.balance_after
                FROM ledger_events e LEFT JOIN ledger_lines l ON l.player_id = e.player_id AND l.seq = e.seq
                WHERE (e.player_id, e.idempotency_key) IN (VALUES \(SQLiteValue.tuples(rows: part.count, columns: 2)))
                """,
                part.flatMap { [SQLiteValue.uuid($0.player), .text($0.key)] }
            )
            for row in rows {
                let key = PostingKey(player: try row.uuid("player_id"), key: try row.string("idempotency_key"))
                var posting: StoredPosting
                if let known = result[key] {
                    posting = known
                } else {
                    posting = StoredPosting(
                        sequence: try row.int64("seq"), kind: try row.enumValue("kind", as: LedgerEventKind.self),
                        tradeID: try row.optionalUUID("trade_id"), deltas: [:], balancesAfter: [:]
                    )
                }
                // An event without lines (a match result without rewards) has one row of NULLs.
                if case .text(let name)? = row.column("item") {
                    let item = ItemKind(name)
                    posting.deltas[item] = try row.int64("delta")
                    posting.balancesAfter[item] = try row.int64("balance_after")
                }
                result[key] = posting
            }
        }
        return result
    }

    private func loadMatches(_ keys: [MatchKey]) async throws -> Set<MatchKey> {
        var result: Set<MatchKey> = []
        for part in keys.chunks(of: Self.chunk / 2) {
            let rows = try await connection.query(
                "SELECT player_id, match_id FROM match_history WHERE (player_id, match_id) IN (VALUES \(SQLiteValue.tuples(rows: part.count, columns: 2)))",
                part.flatMap { [SQLiteValue.uuid($0.player), SQLiteValue.uuid($0.match)] }
            )
            for row in rows { result.insert(MatchKey(player: try row.uuid("player_id"), match: try row.uuid("match_id"))) }
        }
        return result
    }

    func loadInbox(_ ids: [TradeID]) async throws -> [TradeID: TradeInboxRecord] {
        var result: [TradeID: TradeInboxRecord] = [:]
        for part in ids.chunks(of: Self.chunk) {
            let rows = try await connection.query(
                "SELECT trade_id, receiver, decision, reason, recorded_at FROM trade_inbox WHERE trade_id IN (\(SQLiteValue.placeholders(part.count)))",
                part.map(SQLiteValue.uuid)
            )
            for row in rows {
                let record = try SQLiteRegionStore.inboxRecord(row)
                result[record.tradeID] = record
            }
        }
        return result
    }

    func write(_ plan: LedgerWritePlan, decidedOn players: [PlayerID: LedgerPlayerRow]) async throws {
        try await insert(
            "ledger_events (player_id, seq, kind, idempotency_key, epoch, trade_id, reason, recorded_at)", columns: 8, plan.events
        ) { event in
            [SQLiteValue.uuid(event.player), SQLiteValue.int(event.sequence), .text(event.kind.rawValue), .text(event.idempotencyKey),
             SQLiteValue.int(event.epoch.rawValue), SQLiteValue.optionalUUID(event.tradeID), .text(event.reason), SQLiteValue.date(event.recordedAt)]
        }
        try await insert("ledger_lines (player_id, seq, item, delta, balance_after)", columns: 5, plan.lines) { line in
            [SQLiteValue.uuid(line.player), SQLiteValue.int(line.sequence), .text(line.item.rawValue), SQLiteValue.int(line.delta), SQLiteValue.int(line.balanceAfter)]
        }
        try await insert(
            "ledger_balances (player_id, item, quantity, as_of_seq)", columns: 4, plan.balances,
            suffix: "ON CONFLICT (player_id, item) DO UPDATE SET quantity = excluded.quantity, as_of_seq = excluded.as_of_seq"
        ) { balance in
            [SQLiteValue.uuid(balance.player), .text(balance.item.rawValue), SQLiteValue.int(balance.quantity), SQLiteValue.int(balance.asOfSequence)]
        }
        for part in Array(plan.playerSequences).chunks(of: Self.chunk) {
            _ = try await connection.query(
                """
                UPDATE players SET ledger_seq = u.column2
                FROM (VALUES \(SQLiteValue.tuples(rows: part.count, columns: 2))) AS u
                WHERE players.player_id = u.column1
                """,
                part.flatMap { [SQLiteValue.uuid($0.key), SQLiteValue.int($0.value)] }
            )
        }
        try await insert("ledger_snapshots (player_id, seq, item, quantity)", columns: 4, plan.snapshots) { line in
            [SQLiteValue.uuid(line.player), SQLiteValue.int(line.sequence), .text(line.item.rawValue), SQLiteValue.int(line.quantity)]
        }
        try await insert("ledger_replays (player_id, idempotency_key, seq, replayed_at)", columns: 4, plan.replays) { replay in
            [SQLiteValue.uuid(replay.player), .text(replay.idempotencyKey), SQLiteValue.int(replay.sequence), SQLiteValue.date(replay.replayedAt)]
        }
        try await insert(
            "trade_outbox (trade_id, giver, receiver, destination_region, status, created_at, settled_at)", columns: 7, plan.outbox
        ) { entry in
            [SQLiteValue.uuid(entry.tradeID), SQLiteValue.uuid(entry.giver), SQLiteValue.uuid(entry.receiver), .text(entry.destinationRegion),
             .text(entry.status.rawValue), SQLiteValue.date(entry.createdAt), entry.settledAt.map(SQLiteValue.date) ?? .null]
        }
        let outboxItems = plan.outbox.flatMap { entry in entry.items.sorted { $0.key < $1.key }.map { (entry.tradeID, $0.key, $0.value) } }
        try await insert("trade_outbox_items (trade_id, item, quantity)", columns: 3, outboxItems) { row in
            [SQLiteValue.uuid(row.0), .text(row.1.rawValue), SQLiteValue.int(row.2)]
        }
        try await insert("trade_inbox (trade_id, receiver, decision, reason, recorded_at)", columns: 5, plan.inbox) { record in
            [SQLiteValue.uuid(record.tradeID), SQLiteValue.uuid(record.receiver), .text(record.decision.rawValue), .text(record.reason), SQLiteValue.date(record.recordedAt)]
        }
        try await insert("match_history (player_id, match_id, finished_at, outcome, xp_awarded, summary)", columns: 6, plan.matches) { match in
            [SQLiteValue.uuid(match.player), SQLiteValue.uuid(match.matchID), SQLiteValue.date(match.finishedAt), .text(match.outcome.rawValue),
             SQLiteValue.int(match.xpAwarded), .blob(match.summary)]
        }
        for part in Array(plan.progress).chunks(of: Self.chunk) {
            // A NULL rating keeps the stored one (the match result set none).
            _ = try await connection.query(
                """
                UPDATE players SET xp = u.column2, level = u.column3, skill_rating = COALESCE(u.column4, skill_rating),
                       skill_deviation = COALESCE(u.column5, skill_deviation), skill_volatility = COALESCE(u.column6, skill_volatility)
                FROM (VALUES \(SQLiteValue.tuples(rows: part.count, columns: 6))) AS u
                WHERE players.player_id = u.column1
                """,
                part.flatMap { player, progress -> [SQLiteData] in
                    [SQLiteValue.uuid(player), SQLiteValue.int(progress.xp), .integer(progress.level),
                     progress.skill.map { .float($0.rating) } ?? .null, progress.skill.map { .float($0.deviation) } ?? .null,
                     progress.skill.map { .float($0.volatility) } ?? .null]
                }
            )
        }
        for settlement in plan.settlements {
            _ = try await connection.query(
                "UPDATE trade_outbox SET status = ?, settled_at = ? WHERE trade_id = ?",
                [.text(settlement.status.rawValue), SQLiteValue.date(settlement.settledAt), SQLiteValue.uuid(settlement.tradeID)]
            )
        }
    }

    /// One multi-row `INSERT INTO <table> VALUES …` per chunk of `rows`.
    private func insert<Row>(
        _ table: String, columns: Int, _ rows: [Row], suffix: String = "", binds: (Row) -> [SQLiteData]
    ) async throws {
        for part in rows.chunks(of: Self.chunk) {
            _ = try await connection.query(
                "INSERT INTO \(table) VALUES \(SQLiteValue.tuples(rows: part.count, columns: columns)) \(suffix)",
                part.flatMap(binds)
            )
        }
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: Swift.max(1, size)).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
