import Foundation

/// Whether an account may log in.
public enum AccountState: String, Sendable, Hashable, Codable, CaseIterable {
    case active
    /// Refused at every login and refresh; the identity layer closes its live sessions.
    case banned
}

/// One player's account as the identity authority stores it: who the player is and the
/// player's **directory entry** (home region and epoch), the one place that decides where the
/// player's data lives.
public struct AccountRecord: Sendable, Hashable {
    public var id: PlayerID
    public var displayName: String
    public var state: AccountState
    /// The region whose store holds the player's data.
    public var homeRegion: String
    /// The fencing epoch of the home assignment (``Epoch/initial`` at creation, +1 per transfer).
    public var epoch: Epoch
    public var createdAt: Date
    /// The store-wide directory version of this account's last change: every change (created,
    /// banned, moved home) gets the next version, in commit order, so a cache that saw version `v`
    /// catches up with ``AccountStore/directoryChanges(after:limit:)``.
    public var directoryVersion: Int64

    public init(id: PlayerID, displayName: String, state: AccountState, homeRegion: String, epoch: Epoch, createdAt: Date, directoryVersion: Int64) {
        self.id = id
        self.displayName = displayName
        self.state = state
        self.homeRegion = homeRegion
        self.epoch = epoch
        self.createdAt = createdAt
        self.directoryVersion = directoryVersion
    }
}

/// How a player proves who they are.
public enum LoginMethodKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Username + password; the subject is the normalized (lowercased) username.
    case password
    /// A guest account bound to a secret the client's device generated; the subject is the device id.
    case device
    /// A platform ticket (Steam, Epic, a console…); the subject is `issuer|subject`.
    case platform
    /// Development logins (topologies with `dev_login: true` only); the subject is the player id.
    case dev
}

/// A login method's identity: unique across all accounts.
public struct LoginMethodKey: Sendable, Hashable {
    public var kind: LoginMethodKind
    public var subject: String

    public init(kind: LoginMethodKind, subject: String) {
        self.kind = kind
        self.subject = subject
    }

    /// The longest subject the stores accept, in UTF-8 bytes.
    public static let maximumSubjectBytes = 256
}

/// A login method linked to an account.
public struct LoginMethodRecord: Sendable, Hashable {
    public var key: LoginMethodKey
    /// What a login must match: the password's scrypt hash string, or the device secret's hash.
    /// Nil for methods proven elsewhere (platform tickets, dev logins).
    public var secret: String?
    public var linkedAt: Date

    public init(key: LoginMethodKey, secret: String?, linkedAt: Date) {
        self.key = key
        self.secret = secret
        self.linkedAt = linkedAt
    }
}

/// An account to create together with its first login method.
public struct NewAccount: Sendable, Hashable {
    public var id: PlayerID
    public var displayName: String
    public var homeRegion: String
    public var createdAt: Date
    public var method: LoginMethodRecord

    public init(id: PlayerID = PlayerID(), displayName: String, homeRegion: String, createdAt: Date = Date(), method: LoginMethodRecord) {
        self.id = id
        self.displayName = displayName
        self.homeRegion = homeRegion
        self.createdAt = createdAt
        self.method = method
    }

    /// The longest display name the stores accept, in UTF-8 bytes.
    public static let maximumDisplayNameBytes = 64
}

/// A refresh token as stored: only its hash, never the token itself.
///
/// Tokens of one login form a family: each refresh spends the presented token and issues the
/// next of the same family. Presenting a spent token again means it was stolen (or replayed), so
/// the whole family is revoked (OAuth 2.0 Security BCP, refresh token rotation).
public struct RefreshTokenRecord: Sendable, Hashable {
    /// SHA-256 of the opaque token (32 bytes).
    public var hash: Data
    public var family: UUID
    public var player: PlayerID
    public var issuedAt: Date
    /// This token's own expiry.
    public var expiresAt: Date
    /// The family's absolute end: no refresh extends a session past it.
    public var familyExpiresAt: Date

    public init(hash: Data, family: UUID, player: PlayerID, issuedAt: Date, expiresAt: Date, familyExpiresAt: Date) {
        self.hash = hash
        self.family = family
        self.player = player
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.familyExpiresAt = familyExpiresAt
    }
}

/// What spending a refresh token did.
public enum RefreshRotation: Sendable, Hashable {
    /// The token was live: it is now spent and `next` is stored in its family.
    case rotated(AccountRecord, family: UUID)
    /// The token had been spent before: its whole family is now revoked.
    case reused(player: PlayerID, family: UUID)
    /// Unknown, revoked, or expired (its own expiry or its family's), or its account is banned; nothing changed.
    case invalid
}

/// One key of the authority's access-token signing key set (RSA-2048, or Ed25519 from earlier versions).
public struct SigningKeyRecord: Sendable, Hashable {
    /// The key id tokens name (`kid`).
    public var id: String
    /// The private key (DER for RSA, 32 raw bytes for Ed25519): stays in the authority's store.
    public var privateKey: Data
    /// The public key (DER for RSA, 32 raw bytes for Ed25519): replicated to every node.
    public var publicKey: Data
    public var createdAt: Date
    /// When it stopped signing (a newer key took over); it still verifies tokens until they expire.
    public var retiredAt: Date?

    public init(id: String, privateKey: Data, publicKey: Data, createdAt: Date, retiredAt: Date? = nil) {
        self.id = id
        self.privateKey = privateKey
        self.publicKey = publicKey
        self.createdAt = createdAt
        self.retiredAt = retiredAt
    }
}
