import Foundation
import JWTKit
import MeridianIdentity

/// A stand-in platform for tests: it signs tickets (ES256 JWTs) with a key made at test time and
/// publishes the key set a ``JWTPlatformTicketVerifier`` is configured with.
public struct PlatformTicketMint: Sendable {
    public let issuer: String
    public let audience: String
    public let keyID: String
    private let keys: JWTKeyCollection
    /// The public key set (a JWKS document) of this platform.
    public let jwks: String

    public init(issuer: String = "https://id.test", audience: String = "meridian-tests", keyID: String = "test-key") async throws {
        self.issuer = issuer
        self.audience = audience
        self.keyID = keyID
        let key = ES256PrivateKey()
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key, kid: JWKIdentifier(string: keyID))
        self.keys = keys
        guard let (x, y) = key.publicKey.parameters else { throw MintError() }
        jwks = #"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"\#(keyID)","x":"\#(x)","y":"\#(y)"}]}"#
    }

    struct MintError: Error {}

    /// A verifier for this platform's tickets, named `platform`.
    public func verifier(platform: String = "test") async throws -> JWTPlatformTicketVerifier {
        try await JWTPlatformTicketVerifier(platform: platform, jwks: jwks, issuer: issuer, audience: audience)
    }

    /// A ticket for `subject`, valid for `lifetime` from `now` (negative: already expired).
    public func ticket(
        subject: String, name: String? = nil, audience: String? = nil, issuer: String? = nil,
        now: Date = Date(), lifetime: TimeInterval = 600
    ) async throws -> String {
        let claims = PlatformTicketClaims(
            sub: SubjectClaim(value: subject), iss: IssuerClaim(value: issuer ?? self.issuer),
            aud: AudienceClaim(value: [audience ?? self.audience]), exp: ExpirationClaim(value: now.addingTimeInterval(lifetime)), name: name
        )
        return try await keys.sign(claims, kid: JWKIdentifier(string: keyID))
    }
}
