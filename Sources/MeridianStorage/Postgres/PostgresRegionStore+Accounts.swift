import Foundation
import Logging
import PostgresNIO

/// The identity authority's storage on PostgreSQL (READ COMMITTED transactions).
///
/// Locking, so that concurrent writers cannot interleave and cannot deadlock:
/// - the account row (`FOR UPDATE`) is the per-player mutex: everything that changes an account,
///   its methods or its refresh tokens takes it first, then token rows;
/// - a directory change takes the next version from `directory_clock` last, by updating its one
///   row: the row lock makes the next writer wait for this commit, so versions follow commit order
///   and a cache paging through ``directoryChanges(after:limit:)`` never misses one. A new account
///   takes the clock first; it locks no existing account, so the order stays acyclic;
/// - `addSigningKey` locks the key table against other writers, so two new keys cannot both stay unretired.
extension PostgresRegionStore: AccountStore {
    typealias AccountRow = (UUID, String, String, String, Int64, Date, Int64)
    typealias MethodRow = (String, String, String?, Date)
    typealias TokenRow = (UUID, UUID, Date, Date, Date?, Date?)
    typealias SigningKeyRow = (String, Data, Data, Date, Date?)

    static let accountColumns = "player_id, display_name, state, home_region, epoch, created_at, directory_version"

    // MARK: Rows

    static func accountRecord(_ row: AccountRow) throws(StorageError) -> AccountRecord {
        guard let state = AccountState(rawValue: row.2) else { throw .corrupt("account \(row.0) has unknown state \"\(row.2)\"") }
        return AccountRecord(
            id: row.0, displayName: row.1, state: state, homeRegion: row.3, epoch: Epoch(row.4), createdAt: row.5, directoryVersion: row.6
        )
    }

    static func methodRecord(_ row: MethodRow) throws(StorageError) -> LoginMethodRecord {
        guard let kind = LoginMethodKind(rawValue: row.0) else { throw .corrupt("a login method has unknown kind \"\(row.0)\"") }
        return LoginMethodRecord(key: LoginMethodKey(kind: kind, subject: row.1), secret: row.2, linkedAt: row.3)
    }

    static func signingKeyRecord(_ row: SigningKeyRow) -> SigningKeyRecord {
        SigningKeyRecord(id: row.0, privateKey: row.1, publicKey: row.2, createdAt: row.3, retiredAt: row.4)
    }

    /// Reads the account; with `lock`, holds its row lock (`FOR UPDATE`) until the transaction ends.
    static func loadAccount(_ id: PlayerID, lock: Bool, on connection: PostgresConnection, logger: Logger) async throws -> AccountRecord? {
        let query: PostgresQuery = lock
            ? "SELECT \(unescaped: accountColumns) FROM accounts WHERE player_id = \(id) FOR UPDATE"
            : "SELECT \(unescaped: accountColumns) FROM accounts WHERE player_id = \(id)"
        for try await row in try await connection.query(query, logger: logger).decode(AccountRow.self) {
            return try accountRecord(row)
        }
        return nil
    }

    static func requireAccount(_ id: PlayerID, lock: Bool, on connection: PostgresConnection, logger: Logger) async throws -> AccountRecord {
        guard let account = try await loadAccount(id, lock: lock, on: connection, logger: logger) else { throw StorageError.accountNotFound(id) }
        return account
    }

    static func loadMethods(of id: PlayerID, on connection: PostgresConnection, logger: Logger) async throws -> [LoginMethodRecord] {
        var methods: [LoginMethodRecord] = []
        for try await row in try await connection.query(
            "SELECT kind, subject, secret, linked_at FROM login_methods WHERE player_id = \(id) ORDER BY linked_at, kind, subject", logger: logger
        ).decode(MethodRow.self) {
            methods.append(try methodRecord(row))
        }
        return methods
    }

    /// Links `method` to `player` unless its key is taken (also by a concurrent, now committed, link); whether it did.
    static func insertMethod(_ method: LoginMethodRecord, for player: PlayerID, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query(
            """
            INSERT INTO login_methods (kind, subject, player_id, secret, linked_at)
            VALUES (\(method.key.kind.rawValue), \(method.key.subject), \(player), \(method.secret), \(method.linkedAt))
            ON CONFLICT (kind, subject) DO NOTHING RETURNING kind
            """,
            logger: logger
        )
        return try await rows.collect().count == 1
    }

    /// Takes the next directory version; the clock's row stays locked until this transaction ends.
    static func nextDirectoryVersion(on connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        for try await version in try await connection.query(
            "UPDATE directory_clock SET version = version + 1 WHERE id = 1 RETURNING version", logger: logger
        ).decode(Int64.self) {
            return version
        }
        throw StorageError.corrupt("the directory clock row is missing from the accounts schema")
    }

    /// Stores `token` unless its hash is taken; whether it did.
    static func insertToken(_ token: RefreshTokenRecord, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query(
            """
            INSERT INTO refresh_tokens (token_hash, family, player_id, issued_at, expires_at, family_expires_at)
            VALUES (\(token.hash), \(token.family), \(token.player), \(token.issuedAt), \(token.expiresAt), \(token.familyExpiresAt))
            ON CONFLICT (token_hash) DO NOTHING RETURNING family
            """,
            logger: logger
        )
        return try await rows.collect().count == 1
    }

    // MARK: Accounts and login methods

    public func createAccount(_ account: NewAccount) async throws(StorageError) -> AccountRecord {
        try AccountValidation.newAccount(account)
        let logger = self.logger
        return try await transaction(retries: configuration.transactionRetries) { connection in
            // Any refusal below throws, which rolls the clock back with everything else.
            let version = try await Self.nextDirectoryVersion(on: connection, logger: logger)
            let inserted = try await connection.query(
                """
                INSERT INTO accounts (player_id, display_name, state, home_region, epoch, created_at, directory_version)
                VALUES (\(account.id), \(account.displayName), 'active', \(account.homeRegion), \(Epoch.initial.rawValue), \(account.createdAt), \(version))
                ON CONFLICT (player_id) DO NOTHING RETURNING player_id
                """,
                logger: logger
            ).collect()
            guard inserted.count == 1 else { throw StorageError.accountTaken(account.id) }
            guard try await Self.insertMethod(account.method, for: account.id, on: connection, logger: logger) else {
                throw StorageError.methodTaken(account.method.key)
            }
            logger.debug("account created", metadata: [
                "meridian.player": "\(account.id)", "meridian.region": "\(account.homeRegion)", "meridian.directory.version": "\(version)",
            ])
            return try await Self.requireAccount(account.id, lock: false, on: connection, logger: logger)
        }
    }

    public func account(_ id: PlayerID) async throws(StorageError) -> AccountRecord? {
        let logger = self.logger
        return try await withConnection { connection in try await Self.loadAccount(id, lock: false, on: connection, logger: logger) }
    }

    public func account(method: LoginMethodKey) async throws(StorageError) -> (account: AccountRecord, method: LoginMethodRecord)? {
        let logger = self.logger
        return try await withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT a.player_id, a.display_name, a.state, a.home_region, a.epoch, a.created_at, a.directory_version,
                       m.kind, m.subject, m.secret, m.linked_at
                FROM login_methods m JOIN accounts a ON a.player_id = m.player_id
                WHERE m.kind = \(method.kind.rawValue) AND m.subject = \(method.subject)
                """,
                logger: logger
            ).decode((UUID, String, String, String, Int64, Date, Int64, String, String, String?, Date).self)
            for try await row in rows {
                let account = try Self.accountRecord((row.0, row.1, row.2, row.3, row.4, row.5, row.6))
                return (account, try Self.methodRecord((row.7, row.8, row.9, row.10)))
            }
            return nil
        }
    }

    public func loginMethods(of id: PlayerID) async throws(StorageError) -> [LoginMethodRecord] {
        let logger = self.logger
        return try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            _ = try await Self.requireAccount(id, lock: false, on: connection, logger: logger)
            return try await Self.loadMethods(of: id, on: connection, logger: logger)
        }
    }

    public func linkMethod(_ method: LoginMethodRecord, to id: PlayerID) async throws(StorageError) -> [LoginMethodRecord] {
        try AccountValidation.methodKey(method.key)
        let logger = self.logger
        return try await transaction(retries: configuration.transactionRetries) { connection in
            _ = try await Self.requireAccount(id, lock: true, on: connection, logger: logger)
            guard try await Self.insertMethod(method, for: id, on: connection, logger: logger) else { throw StorageError.methodTaken(method.key) }
            logger.debug("login method linked", metadata: ["meridian.player": "\(id)", "meridian.login.kind": "\(method.key.kind.rawValue)"])
            return try await Self.loadMethods(of: id, on: connection, logger: logger)
        }
    }

    public func unlinkMethod(_ key: LoginMethodKey, from id: PlayerID) async throws(StorageError) -> [LoginMethodRecord] {
        let logger = self.logger
        return try await transaction(retries: configuration.transactionRetries) { connection in
            // The account's lock keeps two unlinks of its last two methods from both succeeding.
            _ = try await Self.requireAccount(id, lock: true, on: connection, logger: logger)
            let methods = try await Self.loadMethods(of: id, on: connection, logger: logger)
            try AccountRules.unlink(key, from: id, methods: methods)
            try await connection.query(
                "DELETE FROM login_methods WHERE kind = \(key.kind.rawValue) AND subject = \(key.subject) AND player_id = \(id)", logger: logger
            )
            logger.debug("login method unlinked", metadata: ["meridian.player": "\(id)", "meridian.login.kind": "\(key.kind.rawValue)"])
            return methods.filter { $0.key != key }
        }
    }

    public func setAccountState(_ id: PlayerID, to state: AccountState) async throws(StorageError) -> AccountRecord {
        let logger = self.logger
        return try await transaction(retries: configuration.transactionRetries) { connection in
            let account = try await Self.requireAccount(id, lock: true, on: connection, logger: logger)
            guard var changed = AccountRules.setState(account, to: state) else { return account }
            changed.directoryVersion = try await Self.nextDirectoryVersion(on: connection, logger: logger)
            try await connection.query(
                "UPDATE accounts SET state = \(changed.state.rawValue), directory_version = \(changed.directoryVersion) WHERE player_id = \(id)", logger: logger
            )
            logger.debug("account state changed", metadata: [
                "meridian.player": "\(id)", "meridian.account.state": "\(state.rawValue)", "meridian.directory.version": "\(changed.directoryVersion)",
            ])
            return changed
        }
    }

    public func setHome(_ id: PlayerID, region: String, epoch: Epoch) async throws(StorageError) -> AccountRecord {
        try AccountValidation.homeRegion(region)
        let logger = self.logger
        return try await transaction(retries: configuration.transactionRetries) { connection in
            let account = try await Self.requireAccount(id, lock: true, on: connection, logger: logger)
            guard var moved = try AccountRules.setHome(account, region: region, epoch: epoch) else { return account }
            moved.directoryVersion = try await Self.nextDirectoryVersion(on: connection, logger: logger)
            try await connection.query(
                """
                UPDATE accounts SET home_region = \(moved.homeRegion), epoch = \(moved.epoch.rawValue), directory_version = \(moved.directoryVersion)
                WHERE player_id = \(id)
                """,
                logger: logger
            )
            logger.debug("account home moved", metadata: [
                "meridian.player": "\(id)", "meridian.region": "\(region)", "meridian.epoch": "\(epoch)",
                "meridian.directory.version": "\(moved.directoryVersion)",
            ])
            return moved
        }
    }

    public func directoryChanges(after version: Int64, limit: Int) async throws(StorageError) -> [AccountRecord] {
        let logger = self.logger
        return try await withConnection { connection in
            var accounts: [AccountRecord] = []
            for try await row in try await connection.query(
                """
                SELECT \(unescaped: Self.accountColumns) FROM accounts WHERE directory_version > \(version)
                ORDER BY directory_version LIMIT \(Int64(max(0, limit)))
                """,
                logger: logger
            ).decode(AccountRow.self) {
                accounts.append(try Self.accountRecord(row))
            }
            return accounts
        }
    }

    public func directoryVersion() async throws(StorageError) -> Int64 {
        let logger = self.logger
        return try await withConnection { connection in
            for try await version in try await connection.query("SELECT version FROM directory_clock WHERE id = 1", logger: logger).decode(Int64.self) {
                return version
            }
            throw StorageError.corrupt("the directory clock row is missing from the accounts schema")
        }
    }

    // MARK: Refresh tokens

    public func insertRefreshToken(_ token: RefreshTokenRecord) async throws(StorageError) {
        try AccountValidation.refreshToken(token)
        let logger = self.logger
        try await transaction(retries: configuration.transactionRetries) { connection in
            _ = try await Self.requireAccount(token.player, lock: true, on: connection, logger: logger)
            guard try await Self.insertToken(token, on: connection, logger: logger) else { throw StorageError.refreshHashTaken() }
        }
    }

    public func rotateRefreshToken(hash: Data, now: Date, next: RefreshTokenRecord) async throws(StorageError) -> RefreshRotation {
        try AccountValidation.refreshHash(hash)
        try AccountValidation.refreshToken(next, "the next refresh token's hash")
        let logger = self.logger
        return try await transaction(retries: configuration.transactionRetries) { connection in
            // A token's player never changes, so it can be read before any lock; then the account's
            // lock, then the token's: a concurrent rotation of the same token waits here and then
            // reads it spent.
            var player: PlayerID?
            for try await owner in try await connection.query("SELECT player_id FROM refresh_tokens WHERE token_hash = \(hash)", logger: logger).decode(UUID.self) {
                player = owner
            }
            guard let player else { return RefreshRotation.invalid }
            let account = try await Self.loadAccount(player, lock: true, on: connection, logger: logger)
            var token: StoredRefreshToken?
            for try await row in try await connection.query(
                """
                SELECT family, player_id, expires_at, family_expires_at, spent_at, revoked_at FROM refresh_tokens
                WHERE token_hash = \(hash) FOR UPDATE
                """,
                logger: logger
            ).decode(TokenRow.self) {
                token = StoredRefreshToken(family: row.0, player: row.1, expiresAt: row.2, familyExpiresAt: row.3, spentAt: row.4, revokedAt: row.5)
            }
            let decision = AccountRules.spend(token, account: account, now: now, next: next)
            switch decision {
            case .refuse:
                break
            case .revokeFamily(let player, let family):
                // Committed, not thrown: the revocation is the point of detecting the reuse. This
                // statement's snapshot includes the successor a concurrent rotation just committed.
                try await connection.query("UPDATE refresh_tokens SET revoked_at = \(now) WHERE family = \(family) AND revoked_at IS NULL", logger: logger)
                logger.notice("spent refresh token presented again; its family is revoked", metadata: [
                    "meridian.player": "\(player)", "meridian.refresh.family": "\(family)",
                ])
            case .rotate(_, let successor):
                try await connection.query("UPDATE refresh_tokens SET spent_at = \(now) WHERE token_hash = \(hash)", logger: logger)
                // A collision throws, which rolls the spending back: the presented token stays live.
                guard try await Self.insertToken(successor, on: connection, logger: logger) else { throw StorageError.refreshHashTaken() }
                logger.trace("refresh token rotated", metadata: ["meridian.player": "\(successor.player)", "meridian.refresh.family": "\(successor.family)"])
            }
            return decision.rotation
        }
    }

    public func revokeRefreshFamily(_ family: UUID) async throws(StorageError) {
        let logger = self.logger
        try await transaction(retries: configuration.transactionRetries) { connection in
            // Under the account's lock, so that a rotation in flight either commits its successor
            // first (revoked here) or runs after (and finds its token revoked).
            var player: PlayerID?
            for try await owner in try await connection.query("SELECT player_id FROM refresh_tokens WHERE family = \(family) LIMIT 1", logger: logger).decode(UUID.self) {
                player = owner
            }
            guard let player else { return }
            _ = try await Self.loadAccount(player, lock: true, on: connection, logger: logger)
            try await connection.query("UPDATE refresh_tokens SET revoked_at = \(Date()) WHERE family = \(family) AND revoked_at IS NULL", logger: logger)
        }
    }

    public func revokeRefreshTokens(of player: PlayerID) async throws(StorageError) {
        let logger = self.logger
        try await transaction(retries: configuration.transactionRetries) { connection in
            _ = try await Self.requireAccount(player, lock: true, on: connection, logger: logger)
            try await connection.query("UPDATE refresh_tokens SET revoked_at = \(Date()) WHERE player_id = \(player) AND revoked_at IS NULL", logger: logger)
        }
    }

    // MARK: Signing keys

    public func signingKeys() async throws(StorageError) -> [SigningKeyRecord] {
        let logger = self.logger
        return try await withConnection { connection in
            var keys: [SigningKeyRecord] = []
            for try await row in try await connection.query(
                "SELECT key_id, private_key, public_key, created_at, retired_at FROM signing_keys ORDER BY created_at, key_id", logger: logger
            ).decode(SigningKeyRow.self) {
                keys.append(Self.signingKeyRecord(row))
            }
            return keys
        }
    }

    public func addSigningKey(_ key: SigningKeyRecord) async throws(StorageError) {
        try AccountValidation.signingKey(key)
        let logger = self.logger
        try await transaction(retries: configuration.transactionRetries) { connection in
            // SHARE ROW EXCLUSIVE conflicts with itself and with every write, not with reads.
            try await connection.query("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            var existing: SigningKeyRecord?
            for try await row in try await connection.query(
                "SELECT key_id, private_key, public_key, created_at, retired_at FROM signing_keys WHERE key_id = \(key.id)", logger: logger
            ).decode(SigningKeyRow.self) {
                existing = Self.signingKeyRecord(row)
            }
            guard try AccountRules.addSigningKey(key, existing: existing) else { return }
            try await connection.query(
                """
                INSERT INTO signing_keys (key_id, private_key, public_key, created_at, retired_at)
                VALUES (\(key.id), \(key.privateKey), \(key.publicKey), \(key.createdAt), \(key.retiredAt))
                """,
                logger: logger
            )
            try await connection.query(
                "UPDATE signing_keys SET retired_at = \(key.createdAt) WHERE key_id <> \(key.id) AND retired_at IS NULL", logger: logger
            )
            logger.debug("signing key added; older keys retired", metadata: ["meridian.signing.key": "\(key.id)"])
        }
    }

    public func deleteSigningKeys(retiredBefore date: Date) async throws(StorageError) {
        let logger = self.logger
        try await transaction(retries: configuration.transactionRetries) { connection in
            _ = try await connection.query("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < \(date)", logger: logger)
        }
    }
}
