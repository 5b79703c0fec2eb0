import Testing
@testable import MeridianStorage

@Suite struct MigrationPlanTests {
    let known = [Migration(version: 1, name: "one", statements: []), Migration(version: 2, name: "two", statements: [])]

    @Test func runsOnlyWhatIsMissingInOrder() throws {
        #expect(try MigrationPlan.pending(known: known.reversed(), applied: [], location: "x").map(\.version) == [1, 2])
        #expect(try MigrationPlan.pending(known: known, applied: [.init(version: 1, name: "one")], location: "x").map(\.version) == [2])
        #expect(try MigrationPlan.pending(known: known, applied: [.init(version: 1, name: "one"), .init(version: 2, name: "two")], location: "x").isEmpty)
    }

    @Test func refusesADatabaseFromANewerBuild() {
        let error = #expect(throws: StorageError.self) {
            try MigrationPlan.pending(known: known, applied: [.init(version: 3, name: "three")], location: "x")
        }
        #expect(error?.code == .migrationFailed)
    }

    @Test func refusesADatabaseFromADifferentBuild() {
        let error = #expect(throws: StorageError.self) {
            try MigrationPlan.pending(known: known, applied: [.init(version: 1, name: "uno")], location: "x")
        }
        #expect(error?.code == .migrationFailed)
    }

    @Test func schemasOfBothBackendsHaveTheSameVersions() {
        #expect(SQLiteSchema.migrations.map(\.version) == PostgresSchema.migrations.map(\.version))
        #expect(SQLiteSchema.migrations.map(\.name) == PostgresSchema.migrations.map(\.name))
    }
}
