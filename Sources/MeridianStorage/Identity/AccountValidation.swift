import Foundation

/// The checks both ``AccountStore`` backends make before they open a transaction. Pure.
///
/// Refusals are ``StorageError/Code/invalidArgument`` and say what to fix; they never echo a
/// secret, a token hash or key material (sizes only).
enum AccountValidation {
    /// The size of a refresh token hash (SHA-256), in bytes.
    static let hashBytes = 32
    /// Signing keys' sizes, in bytes: from a raw Ed25519 key (32) to a DER-encoded RSA key.
    static let keyBytes = 32...8192
    /// The longest signing key id (`kid`) the stores accept, in UTF-8 bytes.
    static let maximumKeyIDBytes = 128

    static func displayName(_ name: String) throws(StorageError) {
        let bytes = name.utf8.count
        guard bytes > 0 else { throw .invalid("a display name cannot be empty") }
        guard bytes <= NewAccount.maximumDisplayNameBytes else {
            throw .invalid("a display name has at most \(NewAccount.maximumDisplayNameBytes) UTF-8 bytes, got \(bytes); shorten it")
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalid("a display name cannot contain control characters (newlines, tabs, escapes); remove them")
        }
    }

    static func homeRegion(_ region: String) throws(StorageError) {
        guard !region.isEmpty else { throw .invalid("an account needs a home region; name the region its data lives in") }
    }

    /// Names the method kind only: the subject may be a device id or a platform account.
    static func methodKey(_ key: LoginMethodKey) throws(StorageError) {
        let bytes = key.subject.utf8.count
        guard bytes > 0 else { throw .invalid("a \(key.kind.rawValue) login method needs a subject") }
        guard bytes <= LoginMethodKey.maximumSubjectBytes else {
            throw .invalid("a \(key.kind.rawValue) login subject has at most \(LoginMethodKey.maximumSubjectBytes) UTF-8 bytes, got \(bytes)")
        }
    }

    static func newAccount(_ account: NewAccount) throws(StorageError) {
        try displayName(account.displayName)
        try homeRegion(account.homeRegion)
        try methodKey(account.method.key)
    }

    static func refreshHash(_ hash: Data, _ what: String = "a refresh token hash") throws(StorageError) {
        guard hash.count == hashBytes else {
            throw .invalid("\(what) is the SHA-256 of the token (\(hashBytes) bytes), got \(hash.count) bytes; store the hash, never the token")
        }
    }

    static func refreshToken(_ token: RefreshTokenRecord, _ what: String = "a refresh token hash") throws(StorageError) {
        try refreshHash(token.hash, what)
    }

    static func signingKey(_ key: SigningKeyRecord) throws(StorageError) {
        let idBytes = key.id.utf8.count
        guard idBytes > 0, idBytes <= maximumKeyIDBytes else {
            throw .invalid("a signing key id has 1 to \(maximumKeyIDBytes) UTF-8 bytes, got \(idBytes)")
        }
        guard keyBytes.contains(key.privateKey.count), keyBytes.contains(key.publicKey.count) else {
            throw .invalid(
                "signing key \(key.id) needs keys of \(keyBytes.lowerBound) to \(keyBytes.upperBound) bytes (raw Ed25519 or RSA DER), got a \(key.privateKey.count)-byte private and a \(key.publicKey.count)-byte public key"
            )
        }
    }
}
