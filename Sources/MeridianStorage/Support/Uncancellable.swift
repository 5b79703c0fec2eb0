/// Runs `operation` to its end even when the calling task is cancelled.
///
/// For the statements that close a transaction: database drivers refuse to start a query in a
/// cancelled task, and a ROLLBACK (or COMMIT) that never ran leaves the connection inside the
/// transaction — on SQLite's one connection every later write then fails ("cannot start a
/// transaction within a transaction"), on a pooled PostgreSQL connection the next borrower joins
/// it. A new unstructured task does not inherit the caller's cancellation.
func uncancellable<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await Task { try await operation() }.value
}
