import Foundation
import Logging
import PostgresNIO

extension PostgresRegionStore {
    typealias InboxRow = (UUID, UUID, String, String, Date)
    typealias OutboxRow = (UUID, UUID, UUID, String, String, Date, Date?, String, Int64)

    static func inboxRecord(_ row: InboxRow) throws(StorageError) -> TradeInboxRecord {
        guard let decision = TradeDecision(rawValue: row.2) else { throw .corrupt("trade \(row.0) has unknown decision \"\(row.2)\"") }
        return TradeInboxRecord(tradeID: row.0, receiver: row.1, decision: decision, reason: row.3, recordedAt: row.4)
    }

    /// Folds rows of one (trade, item) each into entries, keeping the rows' order.
    static func outboxEntries(_ rows: some AsyncSequence<OutboxRow, any Error>) async throws -> [TradeOutboxEntry] {
        var entries: [TradeOutboxEntry] = []
        var index: [TradeID: Int] = [:]
        for try await (id, giver, receiver, region, status, createdAt, settledAt, item, quantity) in rows {
            if let position = index[id] {
                entries[position].items[ItemKind(item)] = quantity
                continue
            }
            guard let status = TradeStatus(rawValue: status) else { throw StorageError.corrupt("trade \(id) has unknown status \"\(status)\"") }
            index[id] = entries.count
            entries.append(TradeOutboxEntry(
                tradeID: id, giver: giver, receiver: receiver, destinationRegion: region, items: [ItemKind(item): quantity],
                status: status, createdAt: createdAt, settledAt: settledAt
            ))
        }
        return entries
    }

    static let outboxSelect = """
        SELECT o.trade_id, o.giver, o.receiver, o.destination_region, o.status, o.created_at, o.settled_at, i.item, i.quantity
        FROM trade_outbox o JOIN trade_outbox_items i ON i.trade_id = o.trade_id
        """

    static func outboxEntries(_ ids: [TradeID], on connection: PostgresConnection, logger: Logger) async throws -> [TradeOutboxEntry] {
        var query = PostgresQuery(unsafeSQL: outboxSelect + " WHERE o.trade_id = ANY($1) ORDER BY o.created_at, o.trade_id, i.item")
        query.binds.append(ids, context: .default)
        return try await outboxEntries(try await connection.query(query, logger: logger).decode(OutboxRow.self))
    }

    static func loadInboxRecord(_ id: TradeID, on connection: PostgresConnection, logger: Logger) async throws -> TradeInboxRecord? {
        for try await row in try await connection.query(
            "SELECT trade_id, receiver, decision, reason, recorded_at FROM trade_inbox WHERE trade_id = \(id)", logger: logger
        ).decode(InboxRow.self) {
            return try inboxRecord(row)
        }
        return nil
    }

    public func pendingTrades(limit: Int) async throws(StorageError) -> [TradeOutboxEntry] {
        let logger = self.logger
        return try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            var ids: [TradeID] = []
            for try await id in try await connection.query(
                "SELECT trade_id FROM trade_outbox WHERE status = 'pending' ORDER BY created_at, trade_id LIMIT \(Int64(max(0, limit)))", logger: logger
            ).decode(UUID.self) {
                ids.append(id)
            }
            guard !ids.isEmpty else { return [] }
            return try await Self.outboxEntries(ids, on: connection, logger: logger)
        }
    }

    public func tradeOutboxEntry(_ id: TradeID) async throws(StorageError) -> TradeOutboxEntry? {
        let logger = self.logger
        return try await withConnection { connection in try await Self.outboxEntries([id], on: connection, logger: logger).first }
    }

    public func markTradeDelivered(_ id: TradeID) async throws(StorageError) -> TradeOutboxEntry {
        let logger = self.logger
        return try await transaction { connection in
            try await connection.query("SELECT trade_id FROM trade_outbox WHERE trade_id = \(id) FOR UPDATE", logger: logger)
            guard var entry = try await Self.outboxEntries([id], on: connection, logger: logger).first else {
                throw StorageError(.tradeNotFound, "trade \(id) has no outbox row in this store")
            }
            switch entry.status {
            case .delivered: return entry
            case .refunded: throw StorageError(.tradeSettled, "trade \(id) was refunded to its giver; it cannot be marked delivered")
            case .pending:
                let now = Date()
                try await connection.query("UPDATE trade_outbox SET status = 'delivered', settled_at = \(now) WHERE trade_id = \(id)", logger: logger)
                entry.status = .delivered
                entry.settledAt = now
                return entry
            }
        }
    }

    public func tradeInboxRecord(_ id: TradeID) async throws(StorageError) -> TradeInboxRecord? {
        let logger = self.logger
        return try await withConnection { connection in try await Self.loadInboxRecord(id, on: connection, logger: logger) }
    }

    public func rejectTrade(_ id: TradeID, receiver: PlayerID, reason: String) async throws(StorageError) -> TradeInboxRecord {
        let logger = self.logger
        return try await transaction(retries: configuration.transactionRetries) { connection in
            // Lock the receiver's row (if any) first: a trade-in of the same trade locks it too, so
            // exactly one of them records the decision.
            let state = try await Self.loadProfile(receiver, lock: true, on: connection, logger: logger)?.state
            if let existing = try await Self.loadInboxRecord(id, on: connection, logger: logger) { return existing }
            try TradeRejection.check(receiver: receiver, state: state)
            let record = TradeInboxRecord(tradeID: id, receiver: receiver, decision: .rejected, reason: reason, recordedAt: Date())
            try await connection.query(
                """
                INSERT INTO trade_inbox (trade_id, receiver, decision, reason, recorded_at)
                VALUES (\(id), \(receiver), 'rejected', \(reason), \(record.recordedAt))
                """,
                logger: logger
            )
            return record
        }
    }
}
