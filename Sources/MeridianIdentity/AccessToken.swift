import Crypto
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

/// The token format: `m1.<claims>.<signature>`, base64url without padding; the signature is
/// Ed25519 over ``AccessTokenFormat/domain`` followed by the claims' protobuf bytes.
enum AccessTokenFormat {
    static let prefix = "m1"
    static let domain = Array("meridian access token v1".utf8) + [0]
    /// Tokens longer than this are refused before decoding.
    static let maximumLength = 1024

    static func signedBytes(_ claims: [UInt8]) -> [UInt8] { domain + claims }
}

/// Signs access tokens with the authority's current key.
package struct AccessTokenSigner: Sendable {
    let keyID: String
    let key: Curve25519.Signing.PrivateKey
    let cluster: String

    package init(keyID: String, key: Curve25519.Signing.PrivateKey, cluster: String) {
        self.keyID = keyID
        self.key = key
        self.cluster = cluster
    }

    /// The key set that verifies this signer's tokens.
    package var keySet: TokenKeySet {
        var proto = Meridian_Identity_V1_KeySet()
        var signing = Meridian_Identity_V1_SigningKey()
        signing.keyID = keyID
        signing.publicKey = key.publicKey.rawRepresentation
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
        return "\(AccessTokenFormat.prefix).\(Base64URL.encode(bytes)).\(Base64URL.encode(Array(signature)))"
    }
}

/// The authority's public keys, by key id: what every node verifies access tokens with.
public struct TokenKeySet: Sendable {
    struct Key: Sendable {
        var publicKey: Curve25519.Signing.PublicKey
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
            guard let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: key.publicKey) else { continue }
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
