import Foundation
import Testing
@testable import MeridianStorage

@Suite struct StorageURLTests {
    @Test func sqliteNamesADirectory() throws {
        #expect(try StorageURL(parsing: "sqlite:data/eu-west") == .sqlite(directory: "data/eu-west"))
        #expect(try StorageURL(parsing: "sqlite:/var/lib/meridian") == .sqlite(directory: "/var/lib/meridian"))
    }

    @Test func postgresWithEverything() throws {
        let url = try StorageURL(parsing: "postgres://meridian:s%40cret@db.example:6543/meridian_eu_west?sslmode=require")
        #expect(url == .postgres(.init(host: "db.example", port: 6543, username: "meridian", password: "s@cret", database: "meridian_eu_west", tls: .require)))
        #expect(url.description == "postgres://meridian:***@db.example:6543/meridian_eu_west?sslmode=require")
    }

    @Test func thePasswordComesFromAFileOnTheNodeOrTheEnvironmentNotFromTheTopology() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-pg-\(UUID().uuidString)").path
        try "s3cret\nignored second line\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        guard case .postgres(let settings) = try StorageURL(parsing: "postgres://meridian@db/eu?sslmode=require&password_file=\(file)") else {
            Issue.record("not postgres")
            return
        }
        #expect(settings.passwordFile == file)
        #expect(settings.password == nil)
        #expect(try settings.resolvedPassword(environment: ["MERIDIAN_POSTGRES_PASSWORD": "from-env"]) == "s3cret")
        #expect(StorageURL.postgres(settings).description == "postgres://meridian@db:5432/eu?sslmode=require&password_file=\(file)")

        let fromEnvironment = StorageURL.PostgresSettings(host: "db", username: "meridian", database: "eu")
        #expect(try fromEnvironment.resolvedPassword(environment: ["MERIDIAN_POSTGRES_PASSWORD": "from-env"]) == "from-env")
        #expect(try fromEnvironment.resolvedPassword(environment: [:]) == nil)
        let missing = StorageURL.PostgresSettings(host: "db", username: "meridian", database: "eu", passwordFile: "/nonexistent/meridian-pg")
        #expect(throws: StorageError.self) { try missing.resolvedPassword(environment: [:]) }
    }

    @Test func postgresDefaults() throws {
        let url = try StorageURL(parsing: "postgresql://postgres@127.0.0.1/meridian_test")
        #expect(url == .postgres(.init(host: "127.0.0.1", port: 5432, username: "postgres", password: nil, database: "meridian_test", tls: .prefer)))
        #expect(url.description == "postgres://postgres@127.0.0.1:5432/meridian_test")
    }

    @Test func ipv6Host() throws {
        guard case .postgres(let settings) = try StorageURL(parsing: "postgres://u@[::1]:5433/db") else {
            Issue.record("not postgres")
            return
        }
        #expect(settings.host == "::1")
        #expect(settings.port == 5433)
    }

    @Test(arguments: [
        "mysql://u@h/db", "sqlite:", "postgres://u@h", "postgres://h:5432/db", "postgres://u@h:99999/db",
        "postgres://u@h/db?sslmode=sometimes", "postgres://u@h/db?pool=3", "postgres://u@:5432/db",
    ])
    func malformedURLsAreRefused(_ text: String) {
        #expect(throws: StorageError.self) { try StorageURL(parsing: text) }
    }

    @Test func errorsNeverRepeatAPassword() {
        do {
            _ = try StorageURL(parsing: "mysql://user:hunter2@host/db")
            Issue.record("accepted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(!error.message.contains("hunter2"))
        }
    }
}
