import Foundation
import PostgresNIO
import SQLiteNIO
import Testing
@testable import MeridianStorage

/// A caller cancelled in the middle of a transaction (a remote call whose caller went away, a
/// node shutting down) must leave the store as if the transaction never ran — and usable. Found
/// in the bots end-to-end test: a login at the identity authority was cancelled when the calling
/// node was killed, SQLite's ROLLBACK was skipped in the cancelled task, and every later write on
/// that node failed with "cannot start a transaction within a transaction" (results never landed,
/// players stayed "in match" for good).
@Suite("Transactions under cancellation")
struct TransactionCancellationTests {
    @Test(arguments: TestBackend.enabled)
    func aTransactionCancelledHalfWayRollsBackAndTheStoreStaysUsable(_ backend: TestBackend) async throws {
        let fresh = try await FreshStore.make(backend)
        let player = UUID()
        _ = try await fresh.store.createPlayer(NewPlayer(id: player, displayName: "before", homeRegion: "eu-west"))
        for _ in 0..<3 {
            let cancelled = Task { try await Self.renameThenGetCancelled(fresh.store, player) }
            let result = await cancelled.result
            #expect(throws: (any Error).self) { try result.get() }
            #expect(try await fresh.store.player(player)?.displayName == "before", "the half-done transaction was rolled back")
        }
        let renamed = try await fresh.store.renamePlayer(player, epoch: .initial, displayName: "after")
        #expect(renamed.displayName == "after", "the next transaction commits")
        await fresh.destroy()
    }

    /// Opens a write transaction, changes a row, then its task is cancelled before it commits.
    static func renameThenGetCancelled(_ store: any RegionStore, _ player: UUID) async throws {
        switch store {
        case let sqlite as SQLiteRegionStore:
            _ = try await sqlite.database.write { connection in
                _ = try await connection.query("UPDATE players SET display_name = 'during' WHERE player_id = ?", [SQLiteValue.uuid(player)])
                withUnsafeCurrentTask { $0?.cancel() }
                try Task.checkCancellation()
            }
        case let postgres as PostgresRegionStore:
            _ = try await postgres.transaction { connection in
                try await connection.query("UPDATE players SET display_name = 'during' WHERE player_id = \(player)", logger: testLogger)
                withUnsafeCurrentTask { $0?.cancel() }
                try Task.checkCancellation()
            }
        default:
            Issue.record("unknown store \(type(of: store))")
        }
    }
}
