/// One versioned schema change: applied once, in order, in its own transaction, and recorded in
/// `schema_migrations (version, name, applied_at)`.
struct Migration: Sendable {
    var version: Int
    var name: String
    /// Run one by one (SQLite prepares one statement at a time).
    var statements: [String]
}

/// A migration recorded in a database.
struct AppliedMigration: Hashable, Sendable {
    var version: Int
    var name: String
}

/// Decides which migrations to run. Pure.
enum MigrationPlan {
    /// The migrations of `known` not yet in `applied`, in version order.
    ///
    /// Refuses a database that records a version this build does not know (it was migrated by a newer
    /// build) or a version under another name (it was migrated by a different build).
    static func pending(known: [Migration], applied: [AppliedMigration], location: String) throws(StorageError) -> [Migration] {
        let knownByVersion = Dictionary(known.map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
        for migration in applied {
            guard let mine = knownByVersion[migration.version] else {
                throw StorageError(
                    .migrationFailed,
                    "\(location) has schema version \(migration.version) (\(migration.name)), newer than this build knows (\(known.map(\.version).max() ?? 0)); run a newer meridian build"
                )
            }
            guard mine.name == migration.name else {
                throw StorageError(
                    .migrationFailed,
                    "\(location) records schema version \(migration.version) as \"\(migration.name)\" but this build calls it \"\(mine.name)\"; the database was migrated by a different build"
                )
            }
        }
        let done = Set(applied.map(\.version))
        return known.filter { !done.contains($0.version) }.sorted { $0.version < $1.version }
    }
}
