import MeridianStorage
import MeridianTestSupport
import Testing

/// Makes the PostgreSQL half of the suite visible: this test is reported as skipped, with the reason,
/// when `MERIDIAN_TEST_POSTGRES_URL` is not set (the parameterized tests then run on SQLite only).
@Suite struct PostgresAvailabilityTests {
    @Test(
        .enabled(
            if: TestBackend.postgresURL != nil,
            "MERIDIAN_TEST_POSTGRES_URL is not set: the PostgreSQL half of the storage suite is SKIPPED (scripts/test sets it)"
        )
    )
    func postgresBackendIsConfigured() async throws {
        let settings = try TestDatabases.base()
        try await TestDatabases.admin("SELECT 1")
        #expect(!settings.database.isEmpty)
    }
}
