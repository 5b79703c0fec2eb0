import Crypto
import Foundation
import MeridianWire
import Testing
@testable import MeridianIdentity

@Suite("Access tokens")
struct AccessTokenTests {
    /// The kind of key the authority makes (RSA-2048), made once for the suite.
    static let key = newKey()
    static let signer = AccessTokenSigner(keyID: "k1", key: key, cluster: "test")

    static func newKey() -> TokenSigningKey {
        do { return try TokenSigningKey.generate() } catch { fatalError("cannot make an RSA key: \(error)") }
    }
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func keySet(_ keys: [(String, TokenSigningKey)], cluster: String = "test") -> TokenKeySet {
        var proto = Meridian_Identity_V1_KeySet()
        proto.keys = keys.map { id, key in
            var signing = Meridian_Identity_V1_SigningKey()
            signing.keyID = id
            signing.publicKey = key.publicKeyBytes
            return signing
        }
        return TokenKeySet(cluster: cluster, proto: proto)
    }

    static func claims(expiresIn seconds: UInt64 = 900) -> AccessClaims {
        AccessClaims(
            player: UUID(), homeRegion: "eu-west", epoch: 3, session: UUID(),
            issuedAt: UInt64(now.timeIntervalSince1970), expiresAt: UInt64(now.timeIntervalSince1970) + seconds, keyID: "k1"
        )
    }

    @Test func aSignedTokenVerifiesWithItsClaims() throws {
        let claims = Self.claims()
        let token = try Self.signer.sign(claims)
        let verified = try Self.keySet([("k1", Self.key)]).verify(token, now: Self.now)
        #expect(verified == claims)
        #expect(token.hasPrefix("m1."))
    }

    @Test func expiredForgedAlteredForeignAndMalformedTokensAreRefused() throws {
        let keys = Self.keySet([("k1", Self.key)])
        let claims = Self.claims(expiresIn: 60)
        let token = try Self.signer.sign(claims)
        func code(_ token: String, keys: TokenKeySet = keys, at time: Date = Self.now) -> TokenError.Code? {
            do {
                _ = try keys.verify(token, now: time)
                return nil
            } catch {
                return error.code
            }
        }
        // Expired: at the expiry second and after.
        #expect(code(token, at: Self.now.addingTimeInterval(60)) == .expired)
        #expect(code(token, at: Self.now.addingTimeInterval(59)) == nil)
        // Forged: the same claims signed by another key that claims the same key id.
        let forger = AccessTokenSigner(keyID: "k1", key: Self.newKey(), cluster: "test")
        #expect(code(try forger.sign(claims)) == .badSignature)
        // Forged with a key of the other kind under the same key id.
        let otherKind = AccessTokenSigner(keyID: "k1", key: .ed25519(Curve25519.Signing.PrivateKey()), cluster: "test")
        #expect(code(try otherKind.sign(claims)) == .badSignature)
        // Altered: another player's claims with the original signature.
        let parts = token.split(separator: ".").map(String.init)
        var other = claims
        other.player = UUID()
        let otherParts = try Self.signer.sign(other).split(separator: ".").map(String.init)
        #expect(code([parts[0], otherParts[1], parts[2]].joined(separator: ".")) == .badSignature)
        // A key this node does not know.
        let unknown = AccessTokenSigner(keyID: "k9", key: .ed25519(Curve25519.Signing.PrivateKey()), cluster: "test")
        #expect(code(try unknown.sign(claims)) == .unknownKey)
        // Another cluster's authority, even with the same key.
        #expect(code(token, keys: Self.keySet([("k1", Self.key)], cluster: "other")) == .wrongCluster)
        // Garbage of every shape.
        for garbage in ["", "m1", "m1..", "m1.!!.!!", "v1.abc.def", parts[0] + "." + parts[1], String(repeating: "a", count: 5000), token + "x"] {
            #expect(code(garbage) != nil, "\(garbage.prefix(20))")
        }
    }

    @Test func rotatedKeysKeepVerifyingOldTokens() throws {
        let newKey = Self.newKey()
        let keys = Self.keySet([("k1", Self.key), ("k2", newKey)])
        let old = try Self.signer.sign(Self.claims())
        let new = try AccessTokenSigner(keyID: "k2", key: newKey, cluster: "test").sign(Self.claims())
        #expect(throws: Never.self) { try keys.verify(old, now: Self.now) }
        #expect(throws: Never.self) { try keys.verify(new, now: Self.now) }
    }

    /// A cluster that signed with an Ed25519 key (earlier versions) rotates to RSA: the tokens of
    /// both keys verify until the old ones expire.
    @Test func anEarlierEd25519KeyKeepsVerifyingBesideAnRSAKey() throws {
        let legacy = TokenSigningKey.ed25519(Curve25519.Signing.PrivateKey())
        let keys = Self.keySet([("k0", legacy), ("k1", Self.key)])
        let old = try AccessTokenSigner(keyID: "k0", key: legacy, cluster: "test").sign(Self.claims())
        let new = try Self.signer.sign(Self.claims())
        #expect(try keys.verify(old, now: Self.now).player != keys.verify(new, now: Self.now).player)
    }

    /// A key read back from the store's bytes signs tokens its stored public key verifies.
    @Test func aKeyRoundTripsThroughItsStoredBytes() throws {
        for key in [Self.key, TokenSigningKey.ed25519(Curve25519.Signing.PrivateKey())] {
            let stored = try TokenSigningKey(stored: key.privateKeyBytes)
            #expect(stored.publicKeyBytes == key.publicKeyBytes)
            let token = try AccessTokenSigner(keyID: "k1", key: stored, cluster: "test").sign(Self.claims())
            #expect(throws: Never.self) { try Self.keySet([("k1", key)]).verify(token, now: Self.now) }
        }
        let unreadable = TokenVerifyingKey(Data(repeating: 7, count: 100))
        #expect(unreadable == nil)
    }

    @Test func base64URLRoundTripsEveryLengthAndRefusesOtherAlphabets() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(Substring(text)) == bytes, "\(length)")
        }
        for bad in ["ab+c", "ab/c", "abc=", "a", "ab c", "é"] { #expect(Base64URL.decode(Substring(bad)) == nil, "\(bad)") }
    }

    @Test func refreshTokensHashOnlyTheirOwnShape() {
        let (token, hash) = RefreshToken.make()
        #expect(RefreshToken.hash(ofToken: token) == hash)
        #expect(hash.count == 32)
        #expect(RefreshToken.hash(ofToken: "r1.short") == nil)
        #expect(RefreshToken.hash(ofToken: "x" + token) == nil)
        #expect(RefreshToken.make().token != token)
    }
}
