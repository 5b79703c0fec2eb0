import Foundation
import Testing
@testable import MeridianStorage

@Suite struct MigrationTests {
    @Test(arguments: TestBackend.enabled)
    func migrationsAreIdempotent(_ backend: TestBackend) async throws {
        try await withFresh(backend) { fresh in
        let player = try await makePlayer(fresh.store)
        #expect(try await appliedMigrations(fresh.store) == SQLiteSchema.migrations.map(\.version))

        // Running the migrations again, in place and by a second opening, changes nothing.
        try await migrateAgain(fresh.store)
        let second = try await fresh.reopen()
        #expect(try await appliedMigrations(second) == SQLiteSchema.migrations.map(\.version))
        #expect(try await second.player(player.id) == player)
        await second.close()
        }
    }

    @Test(arguments: TestBackend.enabled)
    func aDatabaseFromANewerBuildIsRefused(_ backend: TestBackend) async throws {
        try await withFresh(backend) { fresh in
        try await executeRaw("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)".adapted(for: backend), on: fresh.store)
        do {
            let store = try await fresh.reopen()
            await store.close()
            Issue.record("opened a database with schema version 999")
        } catch let error as StorageError {
            #expect(error.code == .migrationFailed)
            #expect(error.message.contains("999"))
        }
        }
    }
}

extension String {
    /// `applied_at` is an integer in SQLite and a timestamp in PostgreSQL.
    func adapted(for backend: TestBackend) -> String {
        backend == .postgres ? replacingOccurrences(of: "'future', 0)", with: "'future', now())") : self
    }
}
