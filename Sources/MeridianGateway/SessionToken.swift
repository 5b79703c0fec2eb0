import Crypto
import Foundation
import MeridianTransport

/// Who a session token says the client is.
public struct SessionClaims: Sendable, Hashable {
    public var player: UUID
    public var homeRegion: String
    /// Seconds since 1970.
    public var expiresAt: UInt64
}

/// Issues and verifies session tokens: `v1.<payload>.<mac>` (base64url), the MAC an
/// HMAC-SHA256 over the payload with a key derived from the cluster secret (HKDF, its own
/// purpose label). Every gateway holds the secret, so any gateway verifies a token without a
/// round trip; a token cannot be forged without the secret or reused after it expires.
public struct SessionTokenIssuer: Sendable {
    private let key: SymmetricKey

    public init(secret: ClusterSecret) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: secret.key, info: Data("meridian session token v1".utf8), outputByteCount: 32
        )
    }

    public func issue(player: UUID, homeRegion: String, lifetime: Duration, now: Date = Date()) -> (token: String, claims: SessionClaims) {
        let claims = SessionClaims(
            player: player, homeRegion: homeRegion,
            expiresAt: UInt64(max(0, now.timeIntervalSince1970)) + UInt64(max(0, lifetime.components.seconds))
        )
        var payload = [UInt8]()
        withUnsafeBytes(of: player.uuid) { payload.append(contentsOf: $0) }
        withUnsafeBytes(of: claims.expiresAt.bigEndian) { payload.append(contentsOf: $0) }
        payload.append(contentsOf: homeRegion.utf8.prefix(255))
        let mac = Array(HMAC<SHA256>.authenticationCode(for: payload, using: key))
        return ("v1.\(Self.encode(payload)).\(Self.encode(mac))", claims)
    }

    /// The claims of a valid, unexpired token.
    public func verify(_ token: String, now: Date = Date()) throws(GatewayError) -> SessionClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 512, parts.count == 3, parts[0] == "v1",
              let payload = Self.decode(parts[1]), let mac = Self.decode(parts[2]),
              payload.count > 24
        else { throw GatewayError(.badToken, "the session token is malformed; log in again") }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key) else {
            throw GatewayError(.badToken, "the session token's signature does not match; log in again")
        }
        let uuid = payload.prefix(16).withUnsafeBytes { $0.loadUnaligned(as: uuid_t.self) }
        let expires = payload[16..<24].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard let region = String(bytes: payload[24...], encoding: .utf8) else {
            throw GatewayError(.badToken, "the session token is malformed; log in again")
        }
        guard UInt64(max(0, now.timeIntervalSince1970)) < expires else {
            throw GatewayError(.badToken, "the session token expired; log in again")
        }
        return SessionClaims(player: UUID(uuid: uuid), homeRegion: region, expiresAt: expires)
    }

    private static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func decode(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        return Data(base64Encoded: base64).map(Array.init)
    }
}
