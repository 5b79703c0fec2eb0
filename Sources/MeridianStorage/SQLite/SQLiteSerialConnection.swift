import Logging
import SQLiteNIO
import Synchronization

/// The one SQLite connection of a store and the gate that serializes its use.
///
/// Writes are serialized by construction: a write transaction holds the gate from `BEGIN IMMEDIATE`
/// to `COMMIT`. Reads share the connection and the gate, so a read never sees a half-done transaction.
final class SQLiteSerialConnection: Sendable {
    private let connection: SQLiteConnection
    private let gate = SerialGate()
    private let closed = Mutex(false)
    let location: String

    init(connection: SQLiteConnection, location: String) {
        self.connection = connection
        self.location = location
    }

    /// Runs `body` alone on the connection, outside any transaction.
    func exclusive<T: Sendable>(_ body: @Sendable (SQLiteConnection) async throws -> T) async throws(StorageError) -> T {
        await gate.acquire()
        defer { gate.release() }
        guard !closed.withLock({ $0 }) else {
            throw StorageError(.unavailable, "the SQLite store at \(location) is closed")
        }
        do {
            return try await body(connection)
        } catch {
            throw SQLiteErrors.map(error, location: location)
        }
    }

    /// Runs `body` in a write transaction (`BEGIN IMMEDIATE`): committed if it returns, rolled back if it throws.
    func write<T: Sendable>(_ body: @Sendable (SQLiteConnection) async throws -> T) async throws(StorageError) -> T {
        try await transaction("BEGIN IMMEDIATE", body)
    }

    /// Runs `body` in a read transaction, so that its queries see one snapshot.
    func read<T: Sendable>(_ body: @Sendable (SQLiteConnection) async throws -> T) async throws(StorageError) -> T {
        try await transaction("BEGIN DEFERRED", body)
    }

    /// Runs `body` in a write transaction with foreign key enforcement off: SQLite's procedure for
    /// rebuilding a table that other tables reference (dropping it would fail otherwise). The pragma
    /// has no effect inside a transaction, so it is switched around it, on the same connection, under
    /// the gate. A `body` that changed rows must call ``checkForeignKeys(on:location:)`` before it returns.
    func writeWithoutForeignKeyEnforcement<T: Sendable>(_ body: @Sendable (SQLiteConnection) async throws -> T) async throws(StorageError) -> T {
        try await exclusive { connection in
            _ = try await connection.query("PRAGMA foreign_keys = OFF")
            do {
                let value = try await Self.run("BEGIN IMMEDIATE", on: connection, body)
                _ = try await uncancellable { try await connection.query("PRAGMA foreign_keys = ON") }
                return value
            } catch {
                _ = try? await uncancellable { try await connection.query("PRAGMA foreign_keys = ON") }
                throw error
            }
        }
    }

    /// Throws, so that the transaction rolls back, if any row breaks a foreign key.
    static func checkForeignKeys(on connection: SQLiteConnection, location: String) async throws {
        let violations = try await connection.query("PRAGMA foreign_key_check")
        if let first = violations.first {
            throw StorageError(
                .migrationFailed,
                "\(location): \(violations.count) rows break a foreign key (first in table \(first.column("table")?.string ?? "?")); nothing was changed"
            )
        }
    }

    private func transaction<T: Sendable>(_ begin: String, _ body: @Sendable (SQLiteConnection) async throws -> T) async throws(StorageError) -> T {
        try await exclusive { connection in try await Self.run(begin, on: connection, body) }
    }

    /// `begin`, `body`, then COMMIT, or ROLLBACK if `body` throws. The statement that ends the
    /// transaction runs even when the caller was cancelled meanwhile (``uncancellable(_:)``).
    private static func run<T: Sendable>(_ begin: String, on connection: SQLiteConnection, _ body: (SQLiteConnection) async throws -> T) async throws -> T {
        _ = try await connection.query(begin)
        do {
            let value = try await body(connection)
            _ = try await uncancellable { try await connection.query("COMMIT") }
            return value
        } catch {
            // The transaction may already be gone (SQLite rolls back on some errors by itself).
            _ = try? await uncancellable { try await connection.query("ROLLBACK") }
            throw error
        }
    }

    func close() async {
        await gate.acquire()
        defer { gate.release() }
        let wasClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        // The future-returning close, not the async one: that one gives up when the calling
        // task is cancelled (a node stopped while its store opened), leaving the file open.
        if !wasClosed { try? await connection.close().get() }
    }
}

enum SQLiteErrors {
    /// Passes ``StorageError``s through and maps SQLite's errors to codes an operator can act on.
    static func map(_ error: any Error, location: String) -> StorageError {
        if let error = error as? StorageError { return error }
        if let error = error as? SQLiteError {
            // Connections are opened with extended result codes (`busyTimeout`, `ioErrorFailedWrite`, …):
            // classify by the primary code's name, which every extended code's name starts with.
            let reason = String(describing: error.reason)
            func family(_ names: String...) -> Bool { names.contains { reason.hasPrefix($0) } }
            if family("busy", "locked") {
                return StorageError(.unavailable, "the SQLite database at \(location) stayed locked past the busy timeout; is another process using it?", underlying: error)
            }
            if family("full", "ioError", "cantOpen", "readOnly", "readonly", "permission") {
                return StorageError(.unavailable, "the SQLite database at \(location) cannot be written (disk full, permissions or I/O error)", underlying: error)
            }
            if family("corrupt", "notADatabase") {
                return StorageError(.corruptData, "the SQLite file at \(location) is damaged; restore it from backup", underlying: error)
            }
            return StorageError(.backend, "SQLite failed at \(location)", underlying: error)
        }
        return StorageError(.backend, "SQLite failed at \(location): \(String(describing: error))")
    }
}
