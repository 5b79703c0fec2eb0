import PostgresNIO

enum PostgresErrors {
    /// SQLSTATEs after which re-running the whole transaction may succeed.
    static let retryableStates: Set<String> = [
        "40001",  // serialization_failure
        "40P01",  // deadlock_detected
        "23505",  // unique_violation: a concurrent transaction inserted the same trade decision first
    ]

    static func sqlState(_ error: any Error) -> String? {
        unwrap(error).flatMap { $0.serverInfo?[.sqlState] }
    }

    /// Whether re-running the whole (rolled back) transaction may succeed.
    static func isRetryable(_ error: any Error) -> Bool {
        if error is LedgerWriteConflict { return true }
        return sqlState(error).map(retryableStates.contains) ?? false
    }

    /// Passes ``StorageError``s through and maps postgres-nio's errors to codes an operator can act on.
    /// PostgreSQL's error descriptions redact query parameters, so they are safe to keep as `underlying`.
    static func map(_ error: any Error, location: String) -> StorageError {
        if let error = error as? StorageError { return error }
        if let conflict = error as? LedgerWriteConflict {
            return StorageError(
                .unavailable,
                "\(conflict.expected - conflict.updated) of \(conflict.expected) players of a ledger batch at \(location) kept changing under it; retry (are two writers appending for the same players?)"
            )
        }
        if let transaction = error as? PostgresTransactionError {
            if let inner = transaction.closureError ?? transaction.commitError ?? transaction.beginError { return map(inner, location: location) }
        }
        guard let psql = unwrap(error) else {
            return StorageError(.backend, "PostgreSQL at \(location) failed: \(String(describing: error))")
        }
        switch psql.code {
        case .server:
            let state = psql.serverInfo?[.sqlState] ?? "?"
            let message = psql.serverInfo?[.message] ?? "no message"
            if state.hasPrefix("08") || state == "57P01" || state == "53300" {
                return StorageError(.unavailable, "PostgreSQL at \(location) refused or dropped the connection (\(state): \(message))", underlying: psql)
            }
            if state == "3D000" || state == "28000" || state == "28P01" {
                return StorageError(.unavailable, "PostgreSQL at \(location) rejected the login or database (\(state): \(message)); check the storage URL and that the database exists", underlying: psql)
            }
            if retryableStates.contains(state) {
                return StorageError(.unavailable, "PostgreSQL at \(location) aborted the transaction (\(state): \(message)); retry", underlying: psql)
            }
            return StorageError(.backend, "PostgreSQL at \(location) failed (\(state): \(message))", underlying: psql)
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown, .queryCancelled:
            return StorageError(.unavailable, "PostgreSQL at \(location) is unreachable or the connection closed; check that the server is running", underlying: psql)
        default:
            return StorageError(.backend, "PostgreSQL at \(location) failed (\(psql.code))", underlying: psql)
        }
    }

    private static func unwrap(_ error: any Error) -> PSQLError? {
        if let psql = error as? PSQLError { return psql }
        if let transaction = error as? PostgresTransactionError, let inner = transaction.closureError ?? transaction.commitError ?? transaction.beginError {
            return unwrap(inner)
        }
        return nil
    }
}
