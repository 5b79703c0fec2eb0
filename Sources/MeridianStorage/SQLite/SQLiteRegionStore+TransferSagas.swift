import Foundation
import SQLiteNIO

/// The identity authority's transfer records on SQLite (``AccountStore``'s transfer part).
extension SQLiteRegionStore {
    static let transferColumns = "transfer_id, player_id, from_region, to_region, from_epoch, step, failure, started_at, updated_at"

    static func transferRecord(_ row: SQLiteRow) throws(StorageError) -> TransferRecord {
        TransferRecord(
            id: try row.uuid("transfer_id"), player: try row.uuid("player_id"),
            from: try row.string("from_region"), to: try row.string("to_region"), fromEpoch: Epoch(try row.int64("from_epoch")),
            step: try row.enumValue("step", as: TransferStep.self), failure: try row.optionalString("failure"),
            startedAt: try row.date("started_at"), updatedAt: try row.date("updated_at")
        )
    }

    public func beginTransfer(_ transfer: TransferRecord) async throws(StorageError) {
        try transfer.validate()
        try await database.write { connection in
            _ = try await Self.requireAccount(transfer.player, on: connection)
            // Any uniqueness conflict: the id, or another transfer of the player that is not final.
            let rows = try await connection.query(
                """
                INSERT INTO transfers (\(Self.transferColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING RETURNING transfer_id
                """,
                [SQLiteValue.uuid(transfer.id), SQLiteValue.uuid(transfer.player), .text(transfer.from), .text(transfer.to),
                 SQLiteValue.int(transfer.fromEpoch.rawValue), .text(transfer.step.rawValue), transfer.storedFailure.map(SQLiteData.text) ?? .null,
                 SQLiteValue.date(transfer.startedAt), SQLiteValue.date(transfer.updatedAt)]
            )
            guard !rows.isEmpty else { throw StorageError.transferUnderWay(transfer.player) }
        }
    }

    public func updateTransfer(_ transfer: TransferRecord) async throws(StorageError) {
        try await database.write { connection in
            let rows = try await connection.query(
                "UPDATE transfers SET step = ?, failure = ?, updated_at = ? WHERE transfer_id = ? RETURNING transfer_id",
                [.text(transfer.step.rawValue), transfer.storedFailure.map(SQLiteData.text) ?? .null,
                 SQLiteValue.date(transfer.updatedAt), SQLiteValue.uuid(transfer.id)]
            )
            guard !rows.isEmpty else { throw StorageError.unknownTransfer(transfer.id) }
        }
    }

    public func transfer(_ id: UUID) async throws(StorageError) -> TransferRecord? {
        try await database.exclusive { connection in
            try await connection.query("SELECT \(Self.transferColumns) FROM transfers WHERE transfer_id = ?", [SQLiteValue.uuid(id)])
                .first.map { row throws(StorageError) in try Self.transferRecord(row) }
        }
    }

    public func openTransfers() async throws(StorageError) -> [TransferRecord] {
        try await database.exclusive { connection in
            try await connection.query(
                "SELECT \(Self.transferColumns) FROM transfers WHERE step NOT IN ('done', 'rolled_back') ORDER BY started_at, transfer_id"
            ).map { row throws(StorageError) in try Self.transferRecord(row) }
        }
    }

    public func transfers(of player: PlayerID, limit: Int) async throws(StorageError) -> [TransferRecord] {
        try await database.exclusive { connection in
            try await connection.query(
                "SELECT \(Self.transferColumns) FROM transfers WHERE player_id = ? ORDER BY started_at DESC, transfer_id LIMIT ?",
                [SQLiteValue.uuid(player), .integer(max(0, limit))]
            ).map { row throws(StorageError) in try Self.transferRecord(row) }
        }
    }
}
