import Foundation
import Logging
import PostgresNIO
import SQLiteNIO
import MeridianTestSupport
import Testing
@testable import MeridianStorage

/// The backends the shared storage suite runs against. PostgreSQL joins when
/// `MERIDIAN_TEST_POSTGRES_URL` is set (scripts/test sets it); see ``PostgresAvailabilityTests``.
enum TestBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static let postgresURL: String? = TestPostgres.url

    /// The backends to run: SQLite always, PostgreSQL when configured.
    static var enabled: [TestBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    var testDescription: String { rawValue }
}

/// Warnings and worse, or the level in `MERIDIAN_TEST_LOG_LEVEL` (e.g. `debug`).
let testLogger: Logger = {
    var logger = Logger(label: "meridian.storage.tests")
    logger.logLevel = ProcessInfo.processInfo.environment["MERIDIAN_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}()

/// A fresh, empty store: its own SQLite file in a temporary directory, or its own PostgreSQL
/// database created for the test and dropped afterwards. `reopen` opens the same data again (a
/// process restart); `destroy` closes everything and removes the data.
final class FreshStore: Sendable {
    let backend: TestBackend
    let store: any RegionStore
    private let reopenStore: @Sendable () async throws -> any RegionStore
    private let cleanup: @Sendable () async -> Void

    private init(backend: TestBackend, store: any RegionStore, reopen: @escaping @Sendable () async throws -> any RegionStore, cleanup: @escaping @Sendable () async -> Void) {
        self.backend = backend
        self.store = store
        self.reopenStore = reopen
        self.cleanup = cleanup
    }

    func reopen() async throws -> any RegionStore { try await reopenStore() }

    static func make(_ backend: TestBackend, snapshotInterval: Int64 = 256) async throws -> FreshStore {
        switch backend {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-storage-\(UUID().uuidString)").path
            var configuration = SQLiteRegionStore.Configuration()
            configuration.snapshotInterval = snapshotInterval
            configuration.synchronous = .normal
            let open: @Sendable () async throws -> any RegionStore = { [configuration] in
                try await SQLiteRegionStore.open(directory: directory, node: "node-1", configuration: configuration, logger: testLogger)
            }
            return FreshStore(backend: backend, store: try await open(), reopen: open) {
                try? FileManager.default.removeItem(atPath: directory)
            }
        case .postgres:
            let settings = try await TestDatabases.create()
            var configuration = PostgresRegionStore.Configuration()
            configuration.snapshotInterval = snapshotInterval
            configuration.maximumConnections = 8
            let open: @Sendable () async throws -> any RegionStore = { [configuration] in
                try await PostgresRegionStore.connect(settings, configuration: configuration, logger: testLogger)
            }
            return FreshStore(backend: backend, store: try await open(), reopen: open) {
                await TestDatabases.drop(settings.database)
            }
        }
    }

    /// Closes the store and removes its data (other opened copies must be closed by the caller).
    func destroy() async {
        await store.close()
        await cleanup()
    }
}

/// Runs `body` with a fresh store of `backend` and removes it afterwards, also when `body` throws.
func withFreshStore(
    _ backend: TestBackend, snapshotInterval: Int64 = 256, _ body: (any RegionStore) async throws -> Void
) async throws {
    try await withFresh(backend, snapshotInterval: snapshotInterval) { fresh in try await body(fresh.store) }
}

/// Like ``withFreshStore(_:snapshotInterval:_:)``, handing over the ``FreshStore`` (to reopen it).
func withFresh(
    _ backend: TestBackend, snapshotInterval: Int64 = 256, _ body: (FreshStore) async throws -> Void
) async throws {
    let fresh = try await FreshStore.make(backend, snapshotInterval: snapshotInterval)
    do {
        try await body(fresh)
    } catch {
        await fresh.destroy()
        throw error
    }
    await fresh.destroy()
}

/// One database per test on the server of `MERIDIAN_TEST_POSTGRES_URL` (see ``TestPostgres``).
typealias TestDatabases = TestPostgres

/// Runs raw SQL on a store, to corrupt it on purpose. The SQL must be valid in both dialects.
func executeRaw(_ sql: String, on store: any RegionStore) async throws {
    switch store {
    case let store as SQLiteRegionStore:
        _ = try await store.database.exclusive { connection in try await connection.query(sql) }
    case let store as PostgresRegionStore:
        try await store.withConnection { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
        }
    default:
        Issue.record("unknown store type \(type(of: store))")
    }
}

/// The applied schema versions of a store.
func appliedMigrations(_ store: any RegionStore) async throws -> [Int] {
    switch store {
    case let store as SQLiteRegionStore: return try await store.appliedMigrations()
    case let store as PostgresRegionStore: return try await store.appliedMigrations()
    default: return []
    }
}

/// Re-runs a store's migrations in place.
func migrateAgain(_ store: any RegionStore) async throws {
    switch store {
    case let store as SQLiteRegionStore: try await store.migrate()
    case let store as PostgresRegionStore: try await store.migrate()
    default: break
    }
}

/// A new active player in `store`.
@discardableResult
func makePlayer(_ store: any RegionStore, region: String = "eu-west", epoch: Epoch = .initial) async throws -> PlayerProfile {
    try await store.createPlayer(NewPlayer(id: PlayerID(), displayName: "player", homeRegion: region, epoch: epoch))
}

/// Grants `items` to `player` under a unique key.
@discardableResult
func grant(_ store: any RegionStore, _ player: PlayerID, _ items: ItemQuantities, epoch: Epoch = .initial) async throws -> LedgerReceipt {
    try await store.append(LedgerAppend(player: player, epoch: epoch, idempotencyKey: "grant-\(UUID().uuidString)", operation: .grant(items)))
}

/// The ``StorageError`` `body` throws, or nil if it succeeds (any other error fails the test).
func storageError<T>(_ body: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation) async -> StorageError? {
    do {
        _ = try await body()
        return nil
    } catch let error as StorageError {
        return error
    } catch {
        Issue.record("expected a StorageError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
