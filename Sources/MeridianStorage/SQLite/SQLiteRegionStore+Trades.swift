import Foundation
import SQLiteNIO

extension SQLiteRegionStore {
    static func outboxEntries(where condition: String, binds: [SQLiteData], suffix: String = "", on connection: SQLiteConnection) async throws -> [TradeOutboxEntry] {
        let rows = try await connection.query(
            """
            SELECT o.trade_id, o.giver, o.receiver, o.destination_region, o.status, o.created_at, o.settled_at, i.item, i.quantity
            FROM trade_outbox o JOIN trade_outbox_items i ON i.trade_id = o.trade_id
            WHERE \(condition) ORDER BY o.created_at, o.trade_id, i.item \(suffix)
            """,
            binds
        )
        return try outboxEntries(rows)
    }

    /// Folds one row per (trade, item) into entries, keeping the rows' order.
    static func outboxEntries(_ rows: [SQLiteRow]) throws(StorageError) -> [TradeOutboxEntry] {
        var entries: [TradeOutboxEntry] = []
        var index: [TradeID: Int] = [:]
        for row in rows {
            let id = try row.uuid("trade_id")
            let item = ItemKind(try row.string("item"))
            let quantity = try row.int64("quantity")
            if let position = index[id] {
                entries[position].items[item] = quantity
                continue
            }
            index[id] = entries.count
            entries.append(TradeOutboxEntry(
                tradeID: id, giver: try row.uuid("giver"), receiver: try row.uuid("receiver"),
                destinationRegion: try row.string("destination_region"), items: [item: quantity],
                status: try row.enumValue("status", as: TradeStatus.self), createdAt: try row.date("created_at"),
                settledAt: try row.optionalDate("settled_at")
            ))
        }
        return entries
    }

    static func inboxRecord(_ row: SQLiteRow) throws(StorageError) -> TradeInboxRecord {
        TradeInboxRecord(
            tradeID: try row.uuid("trade_id"), receiver: try row.uuid("receiver"),
            decision: try row.enumValue("decision", as: TradeDecision.self), reason: try row.string("reason"),
            recordedAt: try row.date("recorded_at")
        )
    }

    static func loadInboxRecord(_ id: TradeID, on connection: SQLiteConnection) async throws -> TradeInboxRecord? {
        let rows = try await connection.query(
            "SELECT trade_id, receiver, decision, reason, recorded_at FROM trade_inbox WHERE trade_id = ?", [SQLiteValue.uuid(id)]
        )
        return try rows.first.map { row throws(StorageError) in try inboxRecord(row) }
    }

    public func pendingTrades(limit: Int) async throws(StorageError) -> [TradeOutboxEntry] {
        try await database.read { connection in
            // Pick the oldest pending trades first, then read all their items.
            let ids = try await connection.query(
                "SELECT trade_id FROM trade_outbox WHERE status = 'pending' ORDER BY created_at, trade_id LIMIT ?", [.integer(max(0, limit))]
            ).map { row throws(StorageError) in SQLiteValue.uuid(try row.uuid("trade_id")) }
            guard !ids.isEmpty else { return [] }
            return try await Self.outboxEntries(where: "o.trade_id IN (\(SQLiteValue.placeholders(ids.count)))", binds: ids, on: connection)
        }
    }

    public func tradeOutboxEntry(_ id: TradeID) async throws(StorageError) -> TradeOutboxEntry? {
        try await database.exclusive { connection in
            try await Self.outboxEntries(where: "o.trade_id = ?", binds: [SQLiteValue.uuid(id)], on: connection).first
        }
    }

    public func markTradeDelivered(_ id: TradeID) async throws(StorageError) -> TradeOutboxEntry {
        try await database.write { connection in
            guard var entry = try await Self.outboxEntries(where: "o.trade_id = ?", binds: [SQLiteValue.uuid(id)], on: connection).first else {
                throw StorageError(.tradeNotFound, "trade \(id) has no outbox row in this store")
            }
            switch entry.status {
            case .delivered: return entry
            case .refunded: throw StorageError(.tradeSettled, "trade \(id) was refunded to its giver; it cannot be marked delivered")
            case .pending:
                let now = Date()
                _ = try await connection.query(
                    "UPDATE trade_outbox SET status = 'delivered', settled_at = ? WHERE trade_id = ?", [SQLiteValue.date(now), SQLiteValue.uuid(id)]
                )
                entry.status = .delivered
                entry.settledAt = now
                return entry
            }
        }
    }

    public func tradeInboxRecord(_ id: TradeID) async throws(StorageError) -> TradeInboxRecord? {
        try await database.exclusive { connection in try await Self.loadInboxRecord(id, on: connection) }
    }

    public func rejectTrade(_ id: TradeID, receiver: PlayerID, reason: String) async throws(StorageError) -> TradeInboxRecord {
        try await database.write { connection in
            if let existing = try await Self.loadInboxRecord(id, on: connection) { return existing }
            try TradeRejection.check(receiver: receiver, state: try await Self.loadProfile(receiver, on: connection)?.state)
            let record = TradeInboxRecord(tradeID: id, receiver: receiver, decision: .rejected, reason: reason, recordedAt: Date())
            _ = try await connection.query(
                "INSERT INTO trade_inbox (trade_id, receiver, decision, reason, recorded_at) VALUES (?, ?, 'rejected', ?, ?)",
                [SQLiteValue.uuid(id), SQLiteValue.uuid(receiver), .text(reason), SQLiteValue.date(record.recordedAt)]
            )
            return record
        }
    }
}
