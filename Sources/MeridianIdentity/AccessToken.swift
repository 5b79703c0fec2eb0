import Crypto
import CryptoExtras
import Foundation
import MeridianWire
import SwiftProtobuf

/// Who an access token says its holder is: signed by the identity authority, verified by any
/// node without a round trip.
public struct AccessClaims: Sendable, Hashable {
    public init(player: UUID, homeRegion: String, epoch: Int64, session: UUID, issuedAt: UInt64, expiresAt: UInt64, keyID: String) {
        self.player = player
        self.homeRegion = homeRegion
        self.epoch = epoch
        self.session = session
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.keyID = keyID
    }

    public var player: UUID
    public var homeRegion: String
    public var epoch: Int64
    /// The login this token belongs to (its refresh-token family): a logout or a ban names it.
    public var session: UUID
    /// Seconds since 1970.
    public var issuedAt: UInt64
    /// Seconds since 1970; the token is refused from this second on.
    public var expiresAt: UInt64
    public var keyID: String
}

/// Why an access token was refused. Each says what the client should do: log in again.
public struct TokenError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case malformed, unknownKey, badSignature, expired, wrongCluster
    }

    public var code: Code
    public var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// The token format: `m1.<claims>.<signature>`, base64url without padding; the signature, by the
/// key the claims name, is over ``AccessTokenFormat/domain`` followed by the claims' protobuf
/// bytes (see ``TokenSigningKey`` for the algorithms).
enum AccessTokenFormat {
    static let prefix = "m1"
    static let domain = Array("meridian access token v1".utf8) + [0]
    /// Tokens longer than this are refused before decoding.
    static let maximumLength = 1024

    static func signedBytes(_ claims: [UInt8]) -> [UInt8] { domain + claims }
}

/// One of the authority's signing keys.
///
/// New keys are RSA-2048 signing with RSASSA-PSS and SHA-256 (JWT's PS256): what every gateway
/// does per login is verify, and an RSA verification (public exponent 65537) costs ~20 µs on the
/// 2-core development machine where Ed25519 costs 67 µs and ECDSA P-256 51 µs (`meridian-bench
/// identity`); signing costs ~1 ms, once per login or refresh, at the authority. Ed25519 keys
/// made by earlier versions keep signing until rotated and verifying until their tokens expire.
/// Stored as the key's own bytes: 32 raw bytes for Ed25519, DER for RSA.
package enum TokenSigningKey: Sendable {
    case rsa(_RSA.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)

    /// A new key for the authority to sign with.
    package static func generate() throws -> TokenSigningKey {
        .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048))
    }

    /// The key as the store keeps it (``privateKeyBytes``).
    package init(stored bytes: Data) throws {
        if bytes.count == 32 {
            self = .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: bytes))
        } else {
            self = .rsa(try _RSA.Signing.PrivateKey(derRepresentation: bytes))
        }
    }

    package var privateKeyBytes: Data {
        switch self {
        case .rsa(let key): key.derRepresentation
        case .ed25519(let key): key.rawRepresentation
        }
    }

    /// What every node verifies with (replicated in the key set).
    package var publicKeyBytes: Data {
        switch self {
        case .rsa(let key): key.publicKey.derRepresentation
        case .ed25519(let key): key.publicKey.rawRepresentation
        }
    }

    func signature(for bytes: [UInt8]) throws -> [UInt8] {
        switch self {
        case .rsa(let key): Array(try key.signature(for: bytes, padding: .PSS).rawRepresentation)
        case .ed25519(let key): Array(try key.signature(for: bytes))
        }
    }
}

/// The public half of a ``TokenSigningKey``.
enum TokenVerifyingKey: Sendable {
    case rsa(_RSA.Signing.PublicKey)
    case ed25519(Curve25519.Signing.PublicKey)

    /// The key as the key set carries it (``TokenSigningKey/publicKeyBytes``); nil when unreadable.
    init?(_ bytes: Data) {
        if bytes.count == 32 {
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: bytes) else { return nil }
            self = .ed25519(key)
        } else {
            guard let key = try? _RSA.Signing.PublicKey(derRepresentation: bytes) else { return nil }
            self = .rsa(key)
        }
    }

    func isValidSignature(_ signature: [UInt8], for bytes: [UInt8]) -> Bool {
        switch self {
        case .rsa(let key): key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: bytes, padding: .PSS)
        case .ed25519(let key): key.isValidSignature(signature, for: bytes)
        }
    }
}

/// Signs access tokens with the authority's current key.
package struct AccessTokenSigner: Sendable {
    let keyID: String
    let key: TokenSigningKey
    let cluster: String

    package init(keyID: String, key: TokenSigningKey, cluster: String) {
        self.keyID = keyID
        self.key = key
        self.cluster = cluster
    }

    /// The key set that verifies this signer's tokens.
    package var keySet: TokenKeySet {
        var proto = Meridian_Identity_V1_KeySet()
        var signing = Meridian_Identity_V1_SigningKey()
        signing.keyID = keyID
        signing.publicKey = key.publicKeyBytes
        proto.keys = [signing]
        return TokenKeySet(cluster: cluster, proto: proto)
    }

    package func sign(_ claims: AccessClaims) throws -> String {
        var proto = Meridian_Identity_V1_AccessTokenClaims()
        proto.keyID = keyID
        proto.player = claims.player.wireBytes
        proto.homeRegion = claims.homeRegion
        proto.epoch = UInt64(max(0, claims.epoch))
        proto.session = claims.session.wireBytes
        proto.issuedAtUnix = claims.issuedAt
        proto.expiresAtUnix = claims.expiresAt
        proto.cluster = cluster
        let bytes: [UInt8] = try proto.serializedBytes()
        let signature = try key.signature(for: AccessTokenFormat.signedBytes(bytes))
        return "\(AccessTokenFormat.prefix).\(Base64URL.encode(bytes)).\(Base64URL.encode(signature))"
    }
}

/// The authority's public keys, by key id: what every node verifies access tokens with.
public struct TokenKeySet: Sendable {
    struct Key: Sendable {
        var publicKey: TokenVerifyingKey
        var createdAt: Date
        var retiredAt: Date?
    }

    private(set) var keys: [String: Key]
    public let cluster: String

    public init(cluster: String) {
        self.cluster = cluster
        self.keys = [:]
    }

    init(cluster: String, proto: Meridian_Identity_V1_KeySet) {
        self.cluster = cluster
        self.keys = [:]
        for key in proto.keys {
            guard let publicKey = TokenVerifyingKey(key.publicKey) else { continue }
            keys[key.keyID] = Key(
                publicKey: publicKey, createdAt: Date(milliseconds: key.createdAtMs),
                retiredAt: key.retiredAtMs == 0 ? nil : Date(milliseconds: key.retiredAtMs)
            )
        }
    }

    public var isEmpty: Bool { keys.isEmpty }
    public var keyIDs: [String] { keys.keys.sorted() }

    /// The claims of a well-formed token signed by one of these keys, for this cluster, unexpired at `now`.
    public func verify(_ token: String, now: Date) throws(TokenError) -> AccessClaims {
        guard token.utf8.count <= AccessTokenFormat.maximumLength else { throw TokenError(.malformed, "the access token is too long; log in again") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == AccessTokenFormat.prefix,
              let bytes = Base64URL.decode(parts[1]), let signature = Base64URL.decode(parts[2]),
              let proto = try? Meridian_Identity_V1_AccessTokenClaims(serializedBytes: bytes),
              let player = UUID(wireBytes: proto.player), let session = UUID(wireBytes: proto.session)
        else { throw TokenError(.malformed, "the access token is malformed; log in again") }
        guard let key = keys[proto.keyID] else {
            throw TokenError(.unknownKey, "the access token's signing key is not known here; log in again")
        }
        guard key.publicKey.isValidSignature(signature, for: AccessTokenFormat.signedBytes(bytes)) else {
            throw TokenError(.badSignature, "the access token's signature does not match; log in again")
        }
        guard proto.cluster == cluster else { throw TokenError(.wrongCluster, "the access token is from another cluster; log in here") }
        guard UInt64(max(0, now.timeIntervalSince1970)) < proto.expiresAtUnix else {
            throw TokenError(.expired, "the access token expired; refresh it or log in again")
        }
        return AccessClaims(
            player: player, homeRegion: proto.homeRegion, epoch: Int64(clamping: proto.epoch), session: session,
            issuedAt: proto.issuedAtUnix, expiresAt: proto.expiresAtUnix, keyID: proto.keyID
        )
    }
}

/// base64url without padding (RFC 4648 §5), as tokens use it.
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    /// Decodes without Foundation's string rewriting: one pass over the UTF-8 bytes.
    static func decode(_ text: Substring) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text.utf8 {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // Leftover bits must be zero padding of a canonical encoding (and never a whole sextet).
        guard bits < 6, accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }
}

extension UUID {
    var wireBytes: Data { withUnsafeBytes(of: uuid) { Data($0) } }

    init?(wireBytes bytes: Data) {
        guard bytes.count == 16 else { return nil }
        let uuid = bytes.withUnsafeBytes { $0.loadUnaligned(as: uuid_t.self) }
        self.init(uuid: uuid)
    }
}

extension Date {
    init(milliseconds: UInt64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }
    var milliseconds: UInt64 { UInt64(max(0, (timeIntervalSince1970 * 1000).rounded())) }
    var unixSeconds: UInt64 { UInt64(max(0, timeIntervalSince1970)) }
}
