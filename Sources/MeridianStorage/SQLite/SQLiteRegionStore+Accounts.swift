import Foundation
import Logging
import NIOCore
import SQLiteNIO

/// The identity authority's storage on SQLite. Every transaction runs alone on the store's one
/// connection, so reading a row and then writing what ``AccountRules`` decided needs no row locks,
/// and directory versions (read-then-update of `directory_clock` inside the write) follow commit order.
extension SQLiteRegionStore: AccountStore {
    static let accountColumns = "player_id, display_name, state, home_region, epoch, created_at, directory_version"
    static let methodColumns = "kind, subject, secret, linked_at"
    static let tokenColumns = "family, player_id, expires_at, family_expires_at, spent_at, revoked_at"
    static let signingKeyColumns = "key_id, private_key, public_key, created_at, retired_at"

    // MARK: Rows

    static func accountRecord(_ row: SQLiteRow) throws(StorageError) -> AccountRecord {
        AccountRecord(
            id: try row.uuid("player_id"), displayName: try row.string("display_name"),
            state: try row.enumValue("state", as: AccountState.self), homeRegion: try row.string("home_region"),
            epoch: Epoch(try row.int64("epoch")), createdAt: try row.date("created_at"),
            directoryVersion: try row.int64("directory_version")
        )
    }

    static func methodRecord(_ row: SQLiteRow) throws(StorageError) -> LoginMethodRecord {
        LoginMethodRecord(
            key: LoginMethodKey(kind: try row.enumValue("kind", as: LoginMethodKind.self), subject: try row.string("subject")),
            secret: try row.optionalString("secret"), linkedAt: try row.date("linked_at")
        )
    }

    static func signingKeyRecord(_ row: SQLiteRow) throws(StorageError) -> SigningKeyRecord {
        SigningKeyRecord(
            id: try row.string("key_id"), privateKey: try row.bytes("private_key"), publicKey: try row.bytes("public_key"),
            createdAt: try row.date("created_at"), retiredAt: try row.optionalDate("retired_at")
        )
    }

    static func loadAccount(_ id: PlayerID, on connection: SQLiteConnection) async throws -> AccountRecord? {
        let rows = try await connection.query("SELECT \(accountColumns) FROM accounts WHERE player_id = ?", [SQLiteValue.uuid(id)])
        return try rows.first.map { row throws(StorageError) in try accountRecord(row) }
    }

    static func requireAccount(_ id: PlayerID, on connection: SQLiteConnection) async throws -> AccountRecord {
        guard let account = try await loadAccount(id, on: connection) else { throw StorageError.accountNotFound(id) }
        return account
    }

    static func loadMethods(of id: PlayerID, on connection: SQLiteConnection) async throws -> [LoginMethodRecord] {
        try await connection.query(
            "SELECT \(methodColumns) FROM login_methods WHERE player_id = ? ORDER BY linked_at, kind, subject", [SQLiteValue.uuid(id)]
        ).map { row throws(StorageError) in try methodRecord(row) }
    }

    /// Links `method` to `player` unless its key is taken; whether it did.
    static func insertMethod(_ method: LoginMethodRecord, for player: PlayerID, on connection: SQLiteConnection) async throws -> Bool {
        let rows = try await connection.query(
            """
            INSERT INTO login_methods (kind, subject, player_id, secret, linked_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (kind, subject) DO NOTHING RETURNING kind
            """,
            [.text(method.key.kind.rawValue), .text(method.key.subject), SQLiteValue.uuid(player), method.secret.map(SQLiteData.text) ?? .null,
             SQLiteValue.date(method.linkedAt)]
        )
        return !rows.isEmpty
    }

    /// Takes the next directory version. Only inside a write transaction: the connection runs one at a
    /// time, so versions are handed out in commit order, and a rollback gives the version back.
    static func nextDirectoryVersion(on connection: SQLiteConnection) async throws -> Int64 {
        let rows = try await connection.query("UPDATE directory_clock SET version = version + 1 WHERE id = 1 RETURNING version")
        guard let row = rows.first else { throw StorageError.corrupt("the directory clock row is missing from the accounts schema") }
        return try row.int64("version")
    }

    /// Stores `token` unless its hash is taken; whether it did.
    static func insertToken(_ token: RefreshTokenRecord, on connection: SQLiteConnection) async throws -> Bool {
        let rows = try await connection.query(
            """
            INSERT INTO refresh_tokens (token_hash, family, player_id, issued_at, expires_at, family_expires_at, spent_at, revoked_at)
            VALUES (?, ?, ?, ?, ?, ?, NULL, NULL) ON CONFLICT (token_hash) DO NOTHING RETURNING family
            """,
            [SQLiteValue.bytes(token.hash), SQLiteValue.uuid(token.family), SQLiteValue.uuid(token.player),
             SQLiteValue.date(token.issuedAt), SQLiteValue.date(token.expiresAt), SQLiteValue.date(token.familyExpiresAt)]
        )
        return !rows.isEmpty
    }

    // MARK: Accounts and login methods

    public func createAccount(_ account: NewAccount) async throws(StorageError) -> AccountRecord {
        try AccountValidation.newAccount(account)
        let logger = self.logger
        return try await database.write { connection in
            // Any refusal below throws, which rolls the clock back with everything else.
            let version = try await Self.nextDirectoryVersion(on: connection)
            let inserted = try await connection.query(
                """
                INSERT INTO accounts (player_id, display_name, state, home_region, epoch, created_at, directory_version)
                VALUES (?, ?, 'active', ?, ?, ?, ?) ON CONFLICT (player_id) DO NOTHING RETURNING player_id
                """,
                [SQLiteValue.uuid(account.id), .text(account.displayName), .text(account.homeRegion), SQLiteValue.int(Epoch.initial.rawValue),
                 SQLiteValue.date(account.createdAt), SQLiteValue.int(version)]
            )
            guard !inserted.isEmpty else { throw StorageError.accountTaken(account.id) }
            guard try await Self.insertMethod(account.method, for: account.id, on: connection) else { throw StorageError.methodTaken(account.method.key) }
            logger.debug("account created", metadata: [
                "meridian.player": "\(account.id)", "meridian.region": "\(account.homeRegion)", "meridian.directory.version": "\(version)",
            ])
            return try await Self.requireAccount(account.id, on: connection)
        }
    }

    public func account(_ id: PlayerID) async throws(StorageError) -> AccountRecord? {
        try await database.exclusive { connection in try await Self.loadAccount(id, on: connection) }
    }

    public func account(method: LoginMethodKey) async throws(StorageError) -> (account: AccountRecord, method: LoginMethodRecord)? {
        try await database.read { connection in
            let rows = try await connection.query(
                "SELECT player_id, \(Self.methodColumns) FROM login_methods WHERE kind = ? AND subject = ?",
                [.text(method.kind.rawValue), .text(method.subject)]
            )
            guard let row = rows.first else { return nil }
            let player = try row.uuid("player_id")
            guard let account = try await Self.loadAccount(player, on: connection) else {
                throw StorageError.corrupt("a login method names account \(player), which does not exist")
            }
            return (account, try Self.methodRecord(row))
        }
    }

    public func loginMethods(of id: PlayerID) async throws(StorageError) -> [LoginMethodRecord] {
        try await database.read { connection in
            _ = try await Self.requireAccount(id, on: connection)
            return try await Self.loadMethods(of: id, on: connection)
        }
    }

    public func linkMethod(_ method: LoginMethodRecord, to id: PlayerID) async throws(StorageError) -> [LoginMethodRecord] {
        try AccountValidation.methodKey(method.key)
        let logger = self.logger
        return try await database.write { connection in
            _ = try await Self.requireAccount(id, on: connection)
            guard try await Self.insertMethod(method, for: id, on: connection) else { throw StorageError.methodTaken(method.key) }
            logger.debug("login method linked", metadata: ["meridian.player": "\(id)", "meridian.login.kind": "\(method.key.kind.rawValue)"])
            return try await Self.loadMethods(of: id, on: connection)
        }
    }

    public func unlinkMethod(_ key: LoginMethodKey, from id: PlayerID) async throws(StorageError) -> [LoginMethodRecord] {
        let logger = self.logger
        return try await database.write { connection in
            _ = try await Self.requireAccount(id, on: connection)
            let methods = try await Self.loadMethods(of: id, on: connection)
            try AccountRules.unlink(key, from: id, methods: methods)
            _ = try await connection.query(
                "DELETE FROM login_methods WHERE kind = ? AND subject = ? AND player_id = ?",
                [.text(key.kind.rawValue), .text(key.subject), SQLiteValue.uuid(id)]
            )
            logger.debug("login method unlinked", metadata: ["meridian.player": "\(id)", "meridian.login.kind": "\(key.kind.rawValue)"])
            return methods.filter { $0.key != key }
        }
    }

    public func setAccountState(_ id: PlayerID, to state: AccountState) async throws(StorageError) -> AccountRecord {
        let logger = self.logger
        return try await database.write { connection in
            let account = try await Self.requireAccount(id, on: connection)
            guard var changed = AccountRules.setState(account, to: state) else { return account }
            changed.directoryVersion = try await Self.nextDirectoryVersion(on: connection)
            _ = try await connection.query(
                "UPDATE accounts SET state = ?, directory_version = ? WHERE player_id = ?",
                [.text(changed.state.rawValue), SQLiteValue.int(changed.directoryVersion), SQLiteValue.uuid(id)]
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
        return try await database.write { connection in
            let account = try await Self.requireAccount(id, on: connection)
            guard var moved = try AccountRules.setHome(account, region: region, epoch: epoch) else { return account }
            moved.directoryVersion = try await Self.nextDirectoryVersion(on: connection)
            _ = try await connection.query(
                "UPDATE accounts SET home_region = ?, epoch = ?, directory_version = ? WHERE player_id = ?",
                [.text(moved.homeRegion), SQLiteValue.int(moved.epoch.rawValue), SQLiteValue.int(moved.directoryVersion), SQLiteValue.uuid(id)]
            )
            logger.debug("account home moved", metadata: [
                "meridian.player": "\(id)", "meridian.region": "\(region)", "meridian.epoch": "\(epoch)",
                "meridian.directory.version": "\(moved.directoryVersion)",
            ])
            return moved
        }
    }

    public func directoryChanges(after version: Int64, limit: Int) async throws(StorageError) -> [AccountRecord] {
        try await database.exclusive { connection in
            try await connection.query(
                "SELECT \(Self.accountColumns) FROM accounts WHERE directory_version > ? ORDER BY directory_version LIMIT ?",
                [SQLiteValue.int(version), .integer(max(0, limit))]
            ).map { row throws(StorageError) in try Self.accountRecord(row) }
        }
    }

    public func directoryVersion() async throws(StorageError) -> Int64 {
        try await database.exclusive { connection in
            guard let row = try await connection.query("SELECT version FROM directory_clock WHERE id = 1").first else {
                throw StorageError.corrupt("the directory clock row is missing from the accounts schema")
            }
            return try row.int64("version")
        }
    }

    // MARK: Refresh tokens

    public func insertRefreshToken(_ token: RefreshTokenRecord) async throws(StorageError) {
        try AccountValidation.refreshToken(token)
        try await database.write { connection in
            _ = try await Self.requireAccount(token.player, on: connection)
            guard try await Self.insertToken(token, on: connection) else { throw StorageError.refreshHashTaken() }
        }
    }

    public func rotateRefreshToken(hash: Data, now: Date, next: RefreshTokenRecord) async throws(StorageError) -> RefreshRotation {
        try AccountValidation.refreshHash(hash)
        try AccountValidation.refreshToken(next, "the next refresh token's hash")
        let logger = self.logger
        return try await database.write { connection in
            let rows = try await connection.query("SELECT \(Self.tokenColumns) FROM refresh_tokens WHERE token_hash = ?", [SQLiteValue.bytes(hash)])
            let token = try rows.first.map { row throws(StorageError) in
                StoredRefreshToken(
                    family: try row.uuid("family"), player: try row.uuid("player_id"), expiresAt: try row.date("expires_at"),
                    familyExpiresAt: try row.date("family_expires_at"), spentAt: try row.optionalDate("spent_at"), revokedAt: try row.optionalDate("revoked_at")
                )
            }
            var account: AccountRecord?
            if let token { account = try await Self.loadAccount(token.player, on: connection) }
            let decision = AccountRules.spend(token, account: account, now: now, next: next)
            switch decision {
            case .refuse:
                break
            case .revokeFamily(let player, let family):
                // Committed, not thrown: the revocation is the point of detecting the reuse.
                _ = try await connection.query(
                    "UPDATE refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL", [SQLiteValue.date(now), SQLiteValue.uuid(family)]
                )
                logger.notice("spent refresh token presented again; its family is revoked", metadata: [
                    "meridian.player": "\(player)", "meridian.refresh.family": "\(family)",
                ])
            case .rotate(_, let successor):
                _ = try await connection.query("UPDATE refresh_tokens SET spent_at = ? WHERE token_hash = ?", [SQLiteValue.date(now), SQLiteValue.bytes(hash)])
                // A collision throws, which rolls the spending back: the presented token stays live.
                guard try await Self.insertToken(successor, on: connection) else { throw StorageError.refreshHashTaken() }
                logger.trace("refresh token rotated", metadata: ["meridian.player": "\(successor.player)", "meridian.refresh.family": "\(successor.family)"])
            }
            return decision.rotation
        }
    }

    public func revokeRefreshFamily(_ family: UUID) async throws(StorageError) {
        try await database.write { connection in
            _ = try await connection.query(
                "UPDATE refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL", [SQLiteValue.date(Date()), SQLiteValue.uuid(family)]
            )
        }
    }

    public func revokeRefreshTokens(of player: PlayerID) async throws(StorageError) {
        try await database.write { connection in
            _ = try await Self.requireAccount(player, on: connection)
            _ = try await connection.query(
                "UPDATE refresh_tokens SET revoked_at = ? WHERE player_id = ? AND revoked_at IS NULL", [SQLiteValue.date(Date()), SQLiteValue.uuid(player)]
            )
        }
    }

    // MARK: Signing keys

    public func signingKeys() async throws(StorageError) -> [SigningKeyRecord] {
        try await database.exclusive { connection in
            try await connection.query("SELECT \(Self.signingKeyColumns) FROM signing_keys ORDER BY created_at, key_id").map { row throws(StorageError) in
                try Self.signingKeyRecord(row)
            }
        }
    }

    public func addSigningKey(_ key: SigningKeyRecord) async throws(StorageError) {
        try AccountValidation.signingKey(key)
        let logger = self.logger
        try await database.write { connection in
            let existing = try await connection.query("SELECT \(Self.signingKeyColumns) FROM signing_keys WHERE key_id = ?", [.text(key.id)])
                .first.map { row throws(StorageError) in try Self.signingKeyRecord(row) }
            guard try AccountRules.addSigningKey(key, existing: existing) else { return }
            _ = try await connection.query(
                "INSERT INTO signing_keys (key_id, private_key, public_key, created_at, retired_at) VALUES (?, ?, ?, ?, ?)",
                [.text(key.id), SQLiteValue.bytes(key.privateKey), SQLiteValue.bytes(key.publicKey), SQLiteValue.date(key.createdAt),
                 key.retiredAt.map(SQLiteValue.date) ?? .null]
            )
            _ = try await connection.query(
                "UPDATE signing_keys SET retired_at = ? WHERE key_id <> ? AND retired_at IS NULL", [SQLiteValue.date(key.createdAt), .text(key.id)]
            )
            logger.debug("signing key added; older keys retired", metadata: ["meridian.signing.key": "\(key.id)"])
        }
    }

    public func deleteSigningKeys(retiredBefore date: Date) async throws(StorageError) {
        try await database.write { connection in
            _ = try await connection.query("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?", [SQLiteValue.date(date)])
        }
    }
}

extension SQLiteValue {
    static func bytes(_ data: Data) -> SQLiteData { .blob(ByteBuffer(bytes: data)) }
}

extension SQLiteRow {
    func bytes(_ column: String) throws(StorageError) -> Data {
        Data(try blob(column).readableBytesView)
    }
}
