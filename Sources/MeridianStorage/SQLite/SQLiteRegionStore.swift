import Foundation
import Logging
import NIOCore
import SQLiteNIO

/// The embedded default backend: one SQLite database file per node (`<directory>/<node>.sqlite`),
/// in WAL mode with a busy timeout, used through one connection. All transactions are serialized on
/// that connection (SQLite has one writer anyway); ``LedgerWriter`` batches appends so that one
/// transaction — one WAL sync — carries many of them.
public final class SQLiteRegionStore: RegionStore {
    /// How the database file is opened.
    public struct Configuration: Sendable {
        /// SQLite's `synchronous` setting.
        public enum Synchronous: String, Sendable {
            /// Sync the WAL at every commit: a committed transaction survives a power loss. The default.
            case full = "FULL"
            /// Sync only at checkpoints: survives a process crash (kill -9), may lose the last commits on power loss.
            case normal = "NORMAL"
        }

        public var synchronous: Synchronous = .full
        /// How long a statement waits for a lock held by another process before failing with
        /// ``StorageError/Code/unavailable``. Default 5 s.
        public var busyTimeout: Duration = .seconds(5)
        /// Every this many events of a player, the ledger records a snapshot of their balances. Default 256.
        public var snapshotInterval: Int64 = 256

        public init() {}
    }

    public let location: String
    let database: SQLiteSerialConnection
    let configuration: Configuration
    let logger: Logger

    private init(database: SQLiteSerialConnection, configuration: Configuration, logger: Logger) {
        self.database = database
        self.location = database.location
        self.configuration = configuration
        self.logger = logger
    }

    /// Opens (creating if needed) `<directory>/<node>.sqlite` and migrates its schema.
    public static func open(
        directory: String, node: String, configuration: Configuration = .init(), logger: Logger
    ) async throws(StorageError) -> SQLiteRegionStore {
        guard !node.isEmpty, !node.contains("/"), node != ".", node != ".." else {
            throw .invalid("node id \"\(node)\" cannot name a database file")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StorageError(.unavailable, "cannot create the data directory \(directory); check its permissions", underlying: error)
        }
        let path = (directory as NSString).appendingPathComponent("\(node).sqlite")
        return try await open(path: path, configuration: configuration, logger: logger)
    }

    /// Opens (creating if needed) the database file at `path` and migrates its schema.
    public static func open(path: String, configuration: Configuration = .init(), logger: Logger) async throws(StorageError) -> SQLiteRegionStore {
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        } catch {
            throw SQLiteErrors.map(error, location: path)
        }
        let database = SQLiteSerialConnection(connection: connection, location: "sqlite:\(path)")
        let store = SQLiteRegionStore(database: database, configuration: configuration, logger: logger)
        do {
            try await store.configure()
            try await store.migrate()
        } catch {
            await database.close()
            throw error
        }
        return store
    }

    private func configure() async throws(StorageError) {
        let timeout = Int(configuration.busyTimeout.components.seconds * 1000 + configuration.busyTimeout.components.attoseconds / 1_000_000_000_000_000)
        let synchronous = configuration.synchronous.rawValue
        let mode = try await database.exclusive { connection in
            let rows = try await connection.query("PRAGMA journal_mode = WAL")
            // `busy_timeout` replaces sqlite-nio's default busy handler, which retries forever.
            _ = try await connection.query("PRAGMA busy_timeout = \(timeout)")
            _ = try await connection.query("PRAGMA synchronous = \(synchronous)")
            _ = try await connection.query("PRAGMA foreign_keys = ON")
            return rows.first?.column("journal_mode")?.string
        }
        guard mode?.lowercased() == "wal" else {
            throw StorageError(.unavailable, "\(location) could not switch to WAL mode (got \(mode ?? "nothing")); is it on a network file system?")
        }
    }

    /// Applies the migrations this database lacks, in one write transaction (running it twice is a no-op).
    /// Foreign keys are checked once at its end rather than per statement: SQLite cannot alter a
    /// constraint, so a migration may rebuild a table that others reference (version 4 rebuilds `players`).
    func migrate() async throws(StorageError) {
        let location = self.location
        let logger = self.logger
        try await database.exclusive { connection in
            _ = try await connection.query(SQLiteSchema.createMigrationsTable)
        }
        let applied = try await database.writeWithoutForeignKeyEnforcement { connection in
            let rows = try await connection.query("SELECT version, name FROM schema_migrations ORDER BY version")
            let applied = try rows.map { row throws(StorageError) in
                AppliedMigration(version: Int(try row.int64("version")), name: try row.string("name"))
            }
            let pending = try MigrationPlan.pending(known: SQLiteSchema.migrations, applied: applied, location: location)
            for migration in pending {
                for statement in migration.statements {
                    _ = try await connection.query(statement)
                }
                _ = try await connection.query(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [.integer(migration.version), .text(migration.name), SQLiteValue.date(Date())]
                )
                logger.info("applied schema migration", metadata: [
                    "meridian.storage": "\(location)", "meridian.migration": "\(migration.version) \(migration.name)",
                ])
            }
            if !pending.isEmpty { try await SQLiteSerialConnection.checkForeignKeys(on: connection, location: location) }
            return pending.count
        }
        logger.debug("schema is current", metadata: ["meridian.storage": "\(location)", "meridian.migrations.applied": "\(applied)"])
    }

    /// The schema versions recorded in the database.
    func appliedMigrations() async throws(StorageError) -> [Int] {
        try await database.read { connection in
            try await connection.query("SELECT version FROM schema_migrations ORDER BY version").map { row throws(StorageError) in
                Int(try row.int64("version"))
            }
        }
    }

    public func close() async {
        await database.close()
    }
}
