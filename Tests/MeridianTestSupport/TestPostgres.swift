import Foundation
import Logging
import MeridianStorage
import PostgresNIO

/// The PostgreSQL server of `MERIDIAN_TEST_POSTGRES_URL` (scripts/test starts one on loopback and
/// sets it): one database per test, created empty and dropped afterwards.
public enum TestPostgres {
    /// The server's URL, or nil when the tests run without PostgreSQL.
    public static let url: String? = ProcessInfo.processInfo.environment["MERIDIAN_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// The settings of the URL's own database.
    public static func base() throws -> StorageURL.PostgresSettings {
        guard let url else { throw StorageError(.invalidArgument, "MERIDIAN_TEST_POSTGRES_URL is not set") }
        guard case .postgres(let settings) = try StorageURL(parsing: url) else {
            throw StorageError(.invalidArgument, "MERIDIAN_TEST_POSTGRES_URL is not a postgres:// URL")
        }
        return settings
    }

    /// A new empty database on the server; drop it with ``drop(_:)``.
    public static func create() async throws -> StorageURL.PostgresSettings {
        var settings = try base()
        let name = "meridian_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try await admin("CREATE DATABASE \(name)")
        settings.database = String(name)
        return settings
    }

    /// Runs `body` with a new empty database and drops it afterwards, also when `body` throws.
    public static func withDatabase<T>(_ body: (StorageURL.PostgresSettings) async throws -> T) async throws -> T {
        let settings = try await create()
        do {
            let result = try await body(settings)
            await drop(settings.database)
            return result
        } catch {
            await drop(settings.database)
            throw error
        }
    }

    /// A topology `storage:` URL for `settings` (a database ``create()`` made).
    public static func storageURL(_ settings: StorageURL.PostgresSettings) -> String {
        let credentials = settings.password.map { "\(settings.username):\($0)" } ?? settings.username
        return "postgres://\(credentials)@\(settings.host):\(settings.port)/\(settings.database)?sslmode=\(settings.tls.rawValue)"
    }

    public static func drop(_ name: String) async {
        try? await admin("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs one statement on the base database.
    public static func admin(_ sql: String) async throws {
        let settings = try base()
        let logger = Logger(label: "meridian.tests.postgres")
        let connection = try await PostgresConnection.connect(
            configuration: .init(host: settings.host, port: settings.port, username: settings.username, password: settings.password, database: settings.database, tls: .disable),
            id: 1, logger: logger
        )
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}
