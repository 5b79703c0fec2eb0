import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The production backend: one PostgreSQL database per region, used through postgres-nio's
/// `PostgresClient` and its connection pool.
///
/// The store runs the client's `run()` in a task it owns from ``connect(_:configuration:logger:)``
/// until ``close()``, so a caller gets a ready store from one call. A ledger batch reads everything
/// it decides on in one statement and writes every row in one statement guarded by a compare-and-set
/// on its players (see `PostgresLedgerTransaction`).
public final class PostgresRegionStore: RegionStore {
    /// Pool and ledger settings.
    public struct Configuration: Sendable {
        /// Most connections the pool opens. Default 16: ledger batches need few; reads come on top.
        public var maximumConnections: Int = 16
        /// Default 10 s.
        public var connectTimeout: Duration = .seconds(10)
        /// Every this many events of a player, the ledger records a snapshot of their balances. Default 256.
        public var snapshotInterval: Int64 = 256
        /// How often a ledger batch is re-run after another transaction changed one of its players
        /// between its read and its write, a deadlock, or a concurrent insert of the same key or trade
        /// decision (the transaction rolled back, so re-running is safe). Default 5.
        public var transactionRetries: Int = 5
        /// How long ``PostgresRegionStore/close()`` waits for the connection pool to stop after
        /// closing its connections; past it the node goes on (a node declared down must stop
        /// within 30 s to start again in its process) and the pool ends by itself. Default 15 s.
        public var closeTimeout: Duration = .seconds(15)

        public init() {}
    }

    public let location: String
    let client: PostgresClient
    let configuration: Configuration
    let logger: Logger
    private let runner: Task<Void, Never>
    /// The store's operations holding or awaiting a pooled connection now, by the function that
    /// runs them: what a close that does not finish is waiting for (``close()`` logs them).
    private let operations = OperationsInFlight()

    private init(client: PostgresClient, location: String, configuration: Configuration, logger: Logger, runner: Task<Void, Never>) {
        self.client = client
        self.location = location
        self.configuration = configuration
        self.logger = logger
        self.runner = runner
    }

    /// Starts `client.run()` and returns once its task is about to enter it, so that the first lease
    /// does not race the pool's start (postgres-nio warns about leases before `run()`).
    private static func startRunning(_ client: PostgresClient) async -> Task<Void, Never> {
        let (started, signal) = AsyncStream<Void>.makeStream()
        let runner = Task {
            signal.finish()
            await client.run()
        }
        for await _ in started {}
        return runner
    }

    /// Connects to the region's database and migrates its schema (serialized between nodes by an
    /// advisory lock, so all nodes of a region may start at once).
    public static func connect(
        _ settings: StorageURL.PostgresSettings, configuration: Configuration = .init(), logger: Logger
    ) async throws(StorageError) -> PostgresRegionStore {
        let tls: PostgresClient.Configuration.TLS = switch settings.tls {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
        var clientConfiguration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.username,
            password: try settings.resolvedPassword(), database: settings.database, tls: tls
        )
        clientConfiguration.options.maximumConnections = max(1, configuration.maximumConnections)
        clientConfiguration.options.connectTimeout = configuration.connectTimeout
        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
        let store = PostgresRegionStore(
            client: client, location: StorageURL.postgres(settings).description, configuration: configuration, logger: logger,
            runner: await startRunning(client)
        )
        do {
            try await store.migrate()
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    /// Closes every connection (those in use too) and waits until the pool has stopped, at most
    /// ``Configuration/closeTimeout``; a pool that has not stopped by then is logged as an error,
    /// with the store's operations still in flight (by function, and for how long), and left to
    /// end by itself.
    public func close() async {
        runner.cancel()
        let clock = ContinuousClock()
        let stopped = await waitForEnd(of: runner, until: clock.now.advanced(by: configuration.closeTimeout), clock: clock)
        if !stopped {
            logger.error("the PostgreSQL connection pool did not stop within \(configuration.closeTimeout) of its close; going on without it", metadata: [
                "meridian.storage": "\(location)", "meridian.operations_in_flight": "\(operations.describe())",
            ])
        }
    }

    // MARK: Transactions

    /// Runs `body` on a pooled connection outside a transaction.
    func withConnection<T: Sendable>(
        operation: String = #function, _ body: (PostgresConnection) async throws -> T
    ) async throws(StorageError) -> T {
        let token = operations.begin(operation)
        defer { operations.end(token) }
        do {
            return try await client.withConnection { connection in try await body(connection) }
        } catch {
            throw PostgresErrors.map(error, location: location)
        }
    }

    /// Runs `body` in a transaction (`begin` is the statement that opens it): committed if it
    /// returns, rolled back if it throws. `retries` re-runs the whole transaction after a retryable abort.
    func transaction<T: Sendable>(
        _ begin: String = "BEGIN", retries: Int = 0, operation: String = #function, _ body: (PostgresConnection) async throws -> T
    ) async throws(StorageError) -> T {
        try await transaction(begin, retries: retries, operation: operation) { connection, _ in try await body(connection) }
    }

    /// ``transaction(_:retries:_:)`` telling `body` which attempt it is (0 first).
    func transaction<T: Sendable>(
        _ begin: String = "BEGIN", retries: Int = 0, operation: String = #function, _ body: (PostgresConnection, _ attempt: Int) async throws -> T
    ) async throws(StorageError) -> T {
        let token = operations.begin(operation)
        defer { operations.end(token) }
        var attempt = 0
        while true {
            do {
                return try await client.withConnection { connection in
                    try await connection.query(PostgresQuery(unsafeSQL: begin), logger: logger)
                    do {
                        let value = try await body(connection, attempt)
                        // Ends the transaction even when the caller was cancelled meanwhile (see `uncancellable`).
                        try await uncancellable { [logger] in try await connection.query("COMMIT", logger: logger) }
                        return value
                    } catch {
                        _ = try? await uncancellable { [logger] in try await connection.query("ROLLBACK", logger: logger) }
                        throw error
                    }
                }
            } catch {
                if attempt < retries, PostgresErrors.isRetryable(error) {
                    attempt += 1
                    logger.debug("retrying an aborted transaction", metadata: ["meridian.storage": "\(location)", "meridian.attempt": "\(attempt)"])
                    continue
                }
                throw PostgresErrors.map(error, location: location)
            }
        }
    }

    // MARK: Migrations

    func migrate() async throws(StorageError) {
        let location = self.location
        let logger = self.logger
        let applied = try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLockKey))", logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: PostgresSchema.createMigrationsTable), logger: logger)
            var recorded: [AppliedMigration] = []
            for try await (version, name) in try await connection.query("SELECT version, name FROM schema_migrations ORDER BY version", logger: logger).decode((Int32, String).self) {
                recorded.append(AppliedMigration(version: Int(version), name: name))
            }
            let pending = try MigrationPlan.pending(known: PostgresSchema.migrations, applied: recorded, location: location)
            for migration in pending {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(Int32(migration.version)), \(migration.name))", logger: logger
                )
                logger.info("applied schema migration", metadata: [
                    "meridian.storage": "\(location)", "meridian.migration": "\(migration.version) \(migration.name)",
                ])
            }
            return pending.count
        }
        logger.debug("schema is current", metadata: ["meridian.storage": "\(location)", "meridian.migrations.applied": "\(applied)"])
    }

    /// The schema versions recorded in the database.
    func appliedMigrations() async throws(StorageError) -> [Int] {
        let logger = self.logger
        return try await withConnection { connection in
            var versions: [Int] = []
            for try await version in try await connection.query("SELECT version FROM schema_migrations ORDER BY version", logger: logger).decode(Int32.self) {
                versions.append(Int(version))
            }
            return versions
        }
    }
}

/// The operations of a ``PostgresRegionStore`` in flight, each with when it began.
private final class OperationsInFlight: Sendable {
    private struct State {
        var next: UInt64 = 0
        var running: [UInt64: (name: String, since: ContinuousClock.Instant)] = [:]
    }

    private let state = Mutex(State())

    func begin(_ name: String) -> UInt64 {
        state.withLock { state in
            defer { state.next &+= 1 }
            state.running[state.next] = (name, .now)
            return state.next
        }
    }

    func end(_ token: UInt64) {
        _ = state.withLock { $0.running.removeValue(forKey: token) }
    }

    /// "name (for 12.3 s), …", the longest-running first; "none" when nothing runs.
    func describe() -> String {
        let now = ContinuousClock.now
        let running = state.withLock { $0.running.values.sorted { $0.since < $1.since } }
        guard !running.isEmpty else { return "none" }
        return running.map { "\($0.name) (for \(now - $0.since))" }.joined(separator: ", ")
    }
}
