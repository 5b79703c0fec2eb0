import Foundation

/// Who a platform (Steam, Epic, a console network, an OIDC provider) says the player is.
public struct PlatformIdentity: Sendable, Hashable {
    /// The verifier's name, e.g. `steam` or `oidc`.
    public var platform: String
    /// The platform's stable id of the user (with its issuer, unique across platforms).
    public var subject: String
    /// A name the platform suggests, if any.
    public var displayName: String?

    public init(platform: String, subject: String, displayName: String? = nil) {
        self.platform = platform
        self.subject = subject
        self.displayName = displayName
    }
}

/// Checks a platform's login ticket. The identity authority keeps one per platform it accepts
/// (``IdentityConfiguration/platforms``); a ticket names its platform, and an unknown platform
/// is refused. A real Steam or console verifier calls its platform's service; the built-in
/// ``JWTPlatformTicketVerifier`` checks signed tickets (OIDC-style JWTs) against a key set.
public protocol PlatformTicketVerifier: Sendable {
    /// The name clients use in `PlatformLogin.platform`.
    var platform: String { get }

    /// The identity the ticket proves at `now`.
    /// - Throws: ``IdentityRefusal`` with ``IdentityRefusal/Code/invalidCredentials`` for a
    ///   ticket that is forged, expired, altered or meant for someone else.
    func verify(_ ticket: String, now: Date) async throws(IdentityRefusal) -> PlatformIdentity
}
