import Foundation
import Logging
import PostgresNIO

/// The identity authority's transfer records on PostgreSQL (``AccountStore``'s transfer part).
/// The partial unique index `transfers_open_per_player` keeps one open transfer per player, also
/// between concurrent coordinators.
extension PostgresRegionStore {
    typealias TransferRow = (UUID, UUID, String, String, Int64, String, String?, Date, Date)

    static let transferColumns = "transfer_id, player_id, from_region, to_region, from_epoch, step, failure, started_at, updated_at"

    static func transferRecord(_ row: TransferRow) throws(StorageError) -> TransferRecord {
        guard let step = TransferStep(rawValue: row.5) else { throw .corrupt("transfer \(row.0) has unknown step \"\(row.5)\"") }
        return TransferRecord(
            id: row.0, player: row.1, from: row.2, to: row.3, fromEpoch: Epoch(row.4), step: step, failure: row.6,
            startedAt: row.7, updatedAt: row.8
        )
    }

    public func beginTransfer(_ transfer: TransferRecord) async throws(StorageError) {
        try transfer.validate()
        let logger = self.logger
        try await transaction(retries: configuration.transactionRetries) { connection in
            _ = try await Self.requireAccount(transfer.player, lock: true, on: connection, logger: logger)
            let rows = try await connection.query(
                """
                INSERT INTO transfers (\(unescaped: Self.transferColumns))
                VALUES (\(transfer.id), \(transfer.player), \(transfer.from), \(transfer.to), \(transfer.fromEpoch.rawValue),
                        \(transfer.step.rawValue), \(transfer.storedFailure), \(transfer.startedAt), \(transfer.updatedAt))
                ON CONFLICT DO NOTHING RETURNING transfer_id
                """,
                logger: logger
            )
            guard try await rows.collect().count == 1 else { throw StorageError.transferUnderWay(transfer.player) }
        }
    }

    public func updateTransfer(_ transfer: TransferRecord) async throws(StorageError) {
        let logger = self.logger
        try await transaction(retries: configuration.transactionRetries) { connection in
            let rows = try await connection.query(
                """
                UPDATE transfers SET step = \(transfer.step.rawValue), failure = \(transfer.storedFailure), updated_at = \(transfer.updatedAt)
                WHERE transfer_id = \(transfer.id) RETURNING transfer_id
                """,
                logger: logger
            )
            guard try await rows.collect().count == 1 else { throw StorageError.unknownTransfer(transfer.id) }
        }
    }

    public func transfer(_ id: UUID) async throws(StorageError) -> TransferRecord? {
        try await transfers("SELECT \(unescaped: Self.transferColumns) FROM transfers WHERE transfer_id = \(id)").first
    }

    public func openTransfers() async throws(StorageError) -> [TransferRecord] {
        try await transfers(
            "SELECT \(unescaped: Self.transferColumns) FROM transfers WHERE step NOT IN ('done', 'rolled_back') ORDER BY started_at, transfer_id"
        )
    }

    public func transfers(of player: PlayerID, limit: Int) async throws(StorageError) -> [TransferRecord] {
        try await transfers(
            """
            SELECT \(unescaped: Self.transferColumns) FROM transfers WHERE player_id = \(player)
            ORDER BY started_at DESC, transfer_id LIMIT \(Int64(max(0, limit)))
            """
        )
    }

    private func transfers(_ query: PostgresQuery) async throws(StorageError) -> [TransferRecord] {
        let logger = self.logger
        return try await withConnection { connection in
            var records: [TransferRecord] = []
            for try await row in try await connection.query(query, logger: logger).decode(TransferRow.self) {
                records.append(try Self.transferRecord(row))
            }
            return records
        }
    }
}
