import Foundation

/// The identity authority's storage: accounts with their login methods and directory entries,
/// refresh tokens, and the access-token signing keys. Both backends implement it (the store of
/// the topology's `identity_authority` region holds it); one test suite runs against both.
///
/// Every write is one transaction. Errors are ``StorageError``s: a login method or account id
/// that exists already is ``StorageError/Code/alreadyExists``; an unknown account is
/// ``StorageError/Code/playerNotFound``.
public protocol AccountStore: Sendable {
    // MARK: Accounts and login methods

    /// Creates the account with its first login method, atomically, at the next directory version.
    /// Refused with ``StorageError/Code/alreadyExists`` when the method (or the id) is taken:
    /// nothing is written then.
    func createAccount(_ account: NewAccount) async throws(StorageError) -> AccountRecord

    func account(_ id: PlayerID) async throws(StorageError) -> AccountRecord?

    /// The account a login method belongs to, with the method's stored record.
    func account(method: LoginMethodKey) async throws(StorageError) -> (account: AccountRecord, method: LoginMethodRecord)?

    /// The account's methods, oldest first (``StorageError/Code/playerNotFound`` for an unknown account).
    func loginMethods(of id: PlayerID) async throws(StorageError) -> [LoginMethodRecord]

    /// Links another method; ``StorageError/Code/alreadyExists`` when it is linked to any account
    /// (this one included). Returns the account's methods.
    func linkMethod(_ method: LoginMethodRecord, to id: PlayerID) async throws(StorageError) -> [LoginMethodRecord]

    /// Unlinks a method of this account; refused with ``StorageError/Code/invalidArgument`` for the
    /// account's last method or a method it does not have. Returns the account's methods.
    func unlinkMethod(_ key: LoginMethodKey, from id: PlayerID) async throws(StorageError) -> [LoginMethodRecord]

    /// Bans or unbans; a change takes the next directory version (no change: returned as is).
    func setAccountState(_ id: PlayerID, to state: AccountState) async throws(StorageError) -> AccountRecord

    /// Moves the player's home (cross-region transfer): `epoch` must be greater than the current
    /// one (``StorageError/Code/staleEpoch(current:)`` otherwise; equal with the same region is a
    /// no-op). Takes the next directory version.
    func setHome(_ id: PlayerID, region: String, epoch: Epoch) async throws(StorageError) -> AccountRecord

    /// Accounts changed after directory version `version`, in version order, at most `limit`.
    func directoryChanges(after version: Int64, limit: Int) async throws(StorageError) -> [AccountRecord]

    /// The newest directory version (0 before the first account).
    func directoryVersion() async throws(StorageError) -> Int64

    // MARK: Refresh tokens

    /// Stores a new token (the first of a family, at login). ``StorageError/Code/alreadyExists`` on a hash collision,
    /// ``StorageError/Code/playerNotFound`` when `token.player` has no account.
    func insertRefreshToken(_ token: RefreshTokenRecord) async throws(StorageError)

    /// Spends the token with `hash` at `now` and, if it was live and its account is active, stores
    /// `next` in its family (``RefreshRotation/rotated(_:family:)``; `next.family` and `next.player`
    /// are replaced by the spent token's). A spent token revokes its family; see ``RefreshRotation``.
    /// A banned account's tokens are ``RefreshRotation/invalid``.
    func rotateRefreshToken(hash: Data, now: Date, next: RefreshTokenRecord) async throws(StorageError) -> RefreshRotation

    /// Revokes every token of a family (logout). Idempotent.
    func revokeRefreshFamily(_ family: UUID) async throws(StorageError)

    /// Revokes every token of the player (ban, password change). Idempotent; ``StorageError/Code/playerNotFound``
    /// for an unknown account.
    func revokeRefreshTokens(of player: PlayerID) async throws(StorageError)

    // MARK: Signing keys

    /// Every signing key, oldest first (retired ones included).
    func signingKeys() async throws(StorageError) -> [SigningKeyRecord]

    /// Adds a key and retires every other unretired key at `key.createdAt`, atomically.
    /// Idempotent for the same key id and key material.
    func addSigningKey(_ key: SigningKeyRecord) async throws(StorageError)

    /// Deletes retired keys retired before `date` (their tokens have all expired).
    func deleteSigningKeys(retiredBefore date: Date) async throws(StorageError)

    // MARK: Transfers

    /// Records a new transfer (its step as given, normally ``TransferStep/begun``). A player has at
    /// most one transfer that is not final: another one is ``StorageError/Code/alreadyExists`` and
    /// nothing is written; an unknown account is ``StorageError/Code/playerNotFound``.
    func beginTransfer(_ transfer: TransferRecord) async throws(StorageError)

    /// Stores the transfer's new step, failure and update time; ``StorageError/Code/invalidArgument``
    /// for an unknown transfer.
    func updateTransfer(_ transfer: TransferRecord) async throws(StorageError)

    func transfer(_ id: UUID) async throws(StorageError) -> TransferRecord?

    /// Every transfer that is not final, oldest first: what a restarted coordinator resumes.
    func openTransfers() async throws(StorageError) -> [TransferRecord]

    /// The player's most recent transfers, newest first.
    func transfers(of player: PlayerID, limit: Int) async throws(StorageError) -> [TransferRecord]
}
