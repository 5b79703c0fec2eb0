import Foundation
import JWTKit

/// Platform tickets that are signed JWTs (what an OIDC provider issues as an ID token): the
/// signature is checked against the platform's key set (a JWKS document, e.g. its
/// `jwks_uri`), then the issuer, the audience (this game) and the expiry. The account's login
/// method is `issuer|sub`, so two platforms' subjects never meet.
///
/// ```swift
/// let oidc = try await JWTPlatformTicketVerifier(
///     platform: "oidc", jwks: String(contentsOfFile: "keys.json"), issuer: "https://id.example", audience: "my-game"
/// )
/// configuration.platforms = [oidc]
/// ```
public struct JWTPlatformTicketVerifier: PlatformTicketVerifier {
    public let platform: String
    public let issuer: String
    public let audience: String
    /// Clock skew tolerated on the expiry. Default 30 s.
    public let leeway: Duration
    private let keys: JWTKeyCollection

    /// - Throws: ``IdentityRefusal`` (`invalidRequest`) when `jwks` is not a key set jwt-kit can use.
    public init(platform: String, jwks: String, issuer: String, audience: String, leeway: Duration = .seconds(30)) async throws(IdentityRefusal) {
        self.platform = platform
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        let keys = JWTKeyCollection()
        do {
            try await keys.add(jwksJSON: jwks)
        } catch {
            throw IdentityRefusal(.invalidRequest, "the key set of platform \(platform) cannot be used: \(error)")
        }
        self.keys = keys
    }

    public func verify(_ ticket: String, now: Date) async throws(IdentityRefusal) -> PlatformIdentity {
        // One answer for every way a ticket can be wrong: which check failed is no help to a forger.
        let refused = IdentityRefusal(.invalidCredentials, "the \(platform) ticket is not valid; get a new one from the platform")
        guard ticket.utf8.count <= Self.maximumTicketBytes else { throw refused }
        let claims: PlatformTicketClaims
        do {
            claims = try await keys.verify(ticket, as: PlatformTicketClaims.self)
        } catch {
            throw refused
        }
        let expiry = claims.exp.value.addingTimeInterval(Double(leeway.components.seconds))
        guard claims.iss.value == issuer, claims.aud.value.contains(audience), now < expiry,
              !claims.sub.value.isEmpty, claims.sub.value.utf8.count <= 128
        else { throw refused }
        return PlatformIdentity(platform: platform, subject: "\(issuer)|\(claims.sub.value)", displayName: claims.name)
    }

    /// Longer tickets are refused unread.
    public static let maximumTicketBytes = 8192
}

/// The claims of a platform ticket. Checked by ``JWTPlatformTicketVerifier`` after the
/// signature, against its configuration and clock.
package struct PlatformTicketClaims: JWTPayload {
    package var sub: SubjectClaim
    package var iss: IssuerClaim
    package var aud: AudienceClaim
    package var exp: ExpirationClaim
    package var name: String?

    package init(sub: SubjectClaim, iss: IssuerClaim, aud: AudienceClaim, exp: ExpirationClaim, name: String? = nil) {
        self.sub = sub
        self.iss = iss
        self.aud = aud
        self.exp = exp
        self.name = name
    }

    package func verify(using algorithm: some JWTAlgorithm) async throws {}
}
