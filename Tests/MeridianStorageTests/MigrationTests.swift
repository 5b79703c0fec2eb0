import Foundation
import MeridianMatchmaking
@testable import MeridianStorage
import PostgresNIO
import SQLiteNIO
import MeridianTestSupport
import Testing

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

extension MigrationTests {
    @Test func bothBackendsKnowTheSameVersions() {
        #expect(SQLiteSchema.migrations.map(\.version) == [1, 2, 3, 4, 5, 6, 7])
        #expect(PostgresSchema.migrations.map(\.version) == [1, 2, 3, 4, 5, 6, 7])
        #expect(SQLiteSchema.migrations.map(\.name) == PostgresSchema.migrations.map(\.name))
        #expect(SQLiteSchema.migrations[2].name == "identity: accounts, login methods, refresh tokens, signing keys")
        #expect(SQLiteSchema.migrations[3].name == "transfer: incoming players")
        #expect(SQLiteSchema.migrations[4].name == "transfer: sagas at the identity authority")
        #expect(SQLiteSchema.migrations[5].name == "players: activation fence")
        #expect(SQLiteSchema.migrations.last?.name == "identity: RSA signing keys")
    }

    /// A database at schema version 1 (before skill ratings) with one player and one recorded match is
    /// brought to the current version: the player keeps everything and gets the initial rating, the
    /// identity tables start empty (directory version 0), and the old match
    /// replays (with sequence 0: it has no reward event) instead of being applied again.
    @Test(arguments: TestBackend.enabled)
    func aVersion1DatabaseIsUpgraded(_ backend: TestBackend) async throws {
        let player = PlayerID()
        let match = MatchID()
        let id = player.uuidString.lowercased()
        let matchText = match.uuidString.lowercased()
        let seed: [String]
        switch backend {
        case .sqlite:
            seed = [
                "INSERT INTO players VALUES ('\(id)', 'veteran', 'eu-west', 0, 1, 'active', 300, 3, 0)",
                "INSERT INTO match_history VALUES ('\(id)', '\(matchText)', 0, 'win', 300, X'')",
                "INSERT INTO schema_migrations VALUES (1, '\(SQLiteSchema.migrations[0].name)', 0)",
            ]
        case .postgres:
            seed = [
                "INSERT INTO players VALUES ('\(id)', 'veteran', 'eu-west', now(), 1, 'active', 300, 3, 0)",
                "INSERT INTO match_history VALUES ('\(id)', '\(matchText)', now(), 'win', 300, ''::bytea)",
                "INSERT INTO schema_migrations (version, name) VALUES (1, '\(PostgresSchema.migrations[0].name)')",
            ]
        }
        try await withVersion1Database(backend, seed: seed) { store in
            #expect(try await appliedMigrations(store) == [1, 2, 3, 4, 5, 6, 7])
            let accounts = try #require(store as? any AccountStore)
            #expect(try await accounts.directoryVersion() == 0)
            #expect(try await accounts.directoryChanges(after: 0, limit: 10).isEmpty)
            let profile = try #require(try await store.player(player))
            #expect(profile.displayName == "veteran")
            #expect(profile.progression == Progression(xp: 300))
            #expect(profile.skill == .initial)

            let record = MatchRecord(matchID: match, player: player, finishedAt: Date(timeIntervalSince1970: 0), outcome: .win, xpAwarded: 300)
            let replay = try await store.applyMatchResult(MatchResultApplication(record: record, epoch: .initial, rewards: ["gold": 5], skillAfter: nil))
            #expect(replay == LedgerReceipt(player: player, sequence: 0, kind: .matchReward, balancesAfter: [:], replayed: true))
            #expect(try await store.recordMatch(record, epoch: .initial) == MatchRecordResult(recorded: false, progression: Progression(xp: 300)))
            #expect(try await store.player(player) == profile)
            #expect(try await store.ledgerReplays(of: player).map(\.sequence) == [0, 0])

            var next = record
            next.matchID = MatchID()
            next.finishedAt = Date(timeIntervalSince1970: 60)
            let rating = SkillRating(rating: 1550, deviation: 300, volatility: 0.06)
            let applied = try await store.applyMatchResult(MatchResultApplication(record: next, epoch: .initial, rewards: ["gold": 5], skillAfter: rating))
            #expect(applied.sequence == 1 && !applied.replayed)
            #expect(try await store.player(player)?.skill == rating)
            #expect(try await store.player(player)?.progression == Progression(xp: 600))
            #expect(try await LedgerAudit.run(stores: [store]).isClean)
        }
    }

    /// Builds a database with only migration 1 applied plus `seed`, opens it with the current build
    /// (which migrates it) and runs `body`.
    func withVersion1Database(_ backend: TestBackend, seed: [String], _ body: (any RegionStore) async throws -> Void) async throws {
        switch backend {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-storage-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let path = (directory as NSString).appendingPathComponent("node-1.sqlite")
            let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: testLogger)
            do {
                for statement in [SQLiteSchema.createMigrationsTable] + SQLiteSchema.migrations[0].statements + seed {
                    _ = try await connection.query(statement)
                }
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
            let store = try await SQLiteRegionStore.open(path: path, logger: testLogger)
            do { try await body(store) } catch {
                await store.close()
                throw error
            }
            await store.close()
        case .postgres:
            let settings = try await TestDatabases.create()
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: .init(host: settings.host, port: settings.port, username: settings.username, password: settings.password, database: settings.database, tls: .disable),
                    id: 2, logger: testLogger
                )
                do {
                    for statement in [PostgresSchema.createMigrationsTable] + PostgresSchema.migrations[0].statements + seed {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: testLogger)
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try await connection.close()
                let store = try await PostgresRegionStore.connect(settings, logger: testLogger)
                do { try await body(store) } catch {
                    await store.close()
                    throw error
                }
                await store.close()
            } catch {
                await TestDatabases.drop(settings.database)
                throw error
            }
            await TestDatabases.drop(settings.database)
        }
    }
}

extension String {
    /// `applied_at` is an integer in SQLite and a timestamp in PostgreSQL.
    func adapted(for backend: TestBackend) -> String {
        backend == .postgres ? replacingOccurrences(of: "'future', 0)", with: "'future', now())") : self
    }
}
