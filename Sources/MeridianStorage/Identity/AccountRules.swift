import Foundation

/// A refresh token's row as the stores read it (its hash is the key they read it by).
struct StoredRefreshToken: Sendable, Hashable {
    var family: UUID
    var player: PlayerID
    var expiresAt: Date
    var familyExpiresAt: Date
    var spentAt: Date?
    var revokedAt: Date?
}

/// What spending a refresh token must do, in the transaction that read (and locked) its row.
enum RefreshSpend: Sendable, Hashable {
    /// Nothing to write: the answer is ``RefreshRotation/invalid``.
    case refuse
    /// The token was spent before: revoke its whole family, commit, answer ``RefreshRotation/reused(player:family:)``.
    case revokeFamily(player: PlayerID, family: UUID)
    /// Mark the token spent and store `next` (already moved into the family and clamped to its end).
    case rotate(AccountRecord, next: RefreshTokenRecord)

    var rotation: RefreshRotation {
        switch self {
        case .refuse: .invalid
        case .revokeFamily(let player, let family): .reused(player: player, family: family)
        case .rotate(let account, let next): .rotated(account, family: next.family)
        }
    }
}

/// The decisions of ``AccountStore``, shared by both backends so that they cannot drift apart. Pure:
/// a backend reads the rows inside its transaction, asks here, and writes what the answer says.
enum AccountRules {
    /// Decides a refresh: unknown or revoked → refuse; spent → revoke the family (theft or replay:
    /// whoever holds the family must log in again); expired (its own end or its family's) → refuse;
    /// account gone or banned → refuse; otherwise rotate.
    static func spend(_ token: StoredRefreshToken?, account: AccountRecord?, now: Date, next: RefreshTokenRecord) -> RefreshSpend {
        guard let token, token.revokedAt == nil else { return .refuse }
        if token.spentAt != nil { return .revokeFamily(player: token.player, family: token.family) }
        guard now < token.expiresAt, now < token.familyExpiresAt else { return .refuse }
        guard let account, account.id == token.player, account.state == .active else { return .refuse }
        var successor = next
        successor.family = token.family
        successor.player = token.player
        successor.familyExpiresAt = token.familyExpiresAt
        successor.expiresAt = min(next.expiresAt, token.familyExpiresAt)
        return .rotate(account, next: successor)
    }

    /// The account with `state`, or nil when it has it already (no change, no new directory version).
    static func setState(_ account: AccountRecord, to state: AccountState) -> AccountRecord? {
        guard account.state != state else { return nil }
        var changed = account
        changed.state = state
        return changed
    }

    /// The account moved to `region` at `epoch`, or nil for a repeat of its current assignment.
    /// Epochs fence transfers: an older epoch, or the current one naming another region, is stale.
    static func setHome(_ account: AccountRecord, region: String, epoch: Epoch) throws(StorageError) -> AccountRecord? {
        if epoch == account.epoch, region == account.homeRegion { return nil }
        guard epoch > account.epoch else {
            throw StorageError(
                .staleEpoch(current: account.epoch),
                "account \(account.id) is homed in \(account.homeRegion) at epoch \(account.epoch); a move to \(region) needs an epoch above it, got \(epoch)"
            )
        }
        var moved = account
        moved.homeRegion = region
        moved.epoch = epoch
        return moved
    }

    /// Checks that `key` may be unlinked from an account with `methods`: it must be one of them, and not the last.
    static func unlink(_ key: LoginMethodKey, from account: PlayerID, methods: [LoginMethodRecord]) throws(StorageError) {
        guard methods.contains(where: { $0.key == key }) else {
            throw .invalid("account \(account) has no \(key.kind.rawValue) login method with that subject; list its methods first")
        }
        guard methods.count > 1 else {
            throw .invalid("that is account \(account)'s last login method; link another before unlinking it, or the account cannot log in")
        }
    }

    /// Whether `key` must be inserted (true) or is already stored (false, a repeat); refused when its
    /// id is taken by other key material.
    static func addSigningKey(_ key: SigningKeyRecord, existing: SigningKeyRecord?) throws(StorageError) -> Bool {
        guard let existing else { return true }
        guard existing.privateKey == key.privateKey, existing.publicKey == key.publicKey else {
            throw StorageError(.alreadyExists, "signing key id \(key.id) is taken by other key material; generate a new key id")
        }
        return false
    }
}

extension StorageError {
    /// The identity store's "no such account" (``StorageError/Code/playerNotFound``).
    static func accountNotFound(_ id: PlayerID) -> StorageError {
        StorageError(.playerNotFound, "no account \(id) in this identity store; check the player id")
    }

    static func accountTaken(_ id: PlayerID) -> StorageError {
        StorageError(.alreadyExists, "an account with id \(id) exists already; create it under a new id")
    }

    /// Names the kind only: the subject may be a device id or a platform account.
    static func methodTaken(_ key: LoginMethodKey) -> StorageError {
        let hint = key.kind == .password ? "; choose another username" : ""
        return StorageError(.alreadyExists, "that \(key.kind.rawValue) login is linked to an account already\(hint)")
    }

    static func refreshHashTaken() -> StorageError {
        StorageError(.alreadyExists, "a refresh token with that hash is stored already; generate a new random token")
    }
}

extension StorageError {
    /// Another transfer of the player is not final yet (``StorageError/Code/alreadyExists``).
    static func transferUnderWay(_ player: PlayerID) -> StorageError {
        StorageError(.alreadyExists, "player \(player) has a transfer under way already; wait for it to finish (meridian player show)")
    }

    static func unknownTransfer(_ id: UUID) -> StorageError {
        StorageError(.invalidArgument, "no transfer \(id) in this identity store")
    }
}
