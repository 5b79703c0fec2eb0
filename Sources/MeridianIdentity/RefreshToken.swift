import Crypto
import Foundation

/// Opaque refresh tokens: `r1.` + 32 random bytes (base64url). The store keeps only their
/// SHA-256, so a copy of the database cannot be used to log in.
enum RefreshToken {
    static let prefix = "r1."

    /// A new token and the hash to store.
    static func make() -> (token: String, hash: Data) {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        let token = prefix + Base64URL.encode(bytes)
        return (token, hash(ofToken: token)!)
    }

    /// The stored hash of a token, or nil for text that cannot be one of ours.
    static func hash(ofToken token: String) -> Data? {
        guard token.hasPrefix(prefix), token.utf8.count <= 64,
              let bytes = Base64URL.decode(token.dropFirst(prefix.count)), bytes.count == 32
        else { return nil }
        return Data(SHA256.hash(data: bytes))
    }
}

/// Device secrets are high-entropy (the device generated them), so a plain SHA-256 is stored.
enum DeviceSecret {
    static let minimumBytes = 16
    static let maximumBytes = 128

    static func hash(_ secret: Data) -> String {
        SHA256.hash(data: secret).map { String(format: "%02x", $0) }.joined()
    }

    static func matches(_ secret: Data, stored: String) -> Bool {
        PasswordHasher.constantTimeEqual(Array(hash(secret).utf8), Array(stored.utf8))
    }
}
