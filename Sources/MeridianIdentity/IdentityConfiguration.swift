import MeridianStorage
import MeridianTopology

/// How the identity layer issues and checks credentials. The defaults suit production; tests
/// shorten lifetimes and cheapen the password hash.
public struct IdentityConfiguration: Sendable {
    /// The region whose store holds accounts: the topology's `identity_authority`.
    public var authorityRegion: String
    /// Whether `DevLogin` is accepted (the topology's `dev_login`). Default false.
    public var devLogin = false
    /// The platforms whose tickets log players in (`PlatformLogin`), by ``PlatformTicketVerifier/platform``.
    /// Used on the authority's node. Default: none.
    public var platforms: [any PlatformTicketVerifier] = []
    /// Lifetime of an access token. Default 15 minutes.
    public var accessTokenLifetime: Duration = .seconds(15 * 60)
    /// Lifetime of one refresh token (each refresh issues the next). Default 30 days.
    public var refreshTokenLifetime: Duration = .seconds(30 * 86_400)
    /// Absolute lifetime of a login: no refresh extends it. Default 90 days.
    public var sessionLifetime: Duration = .seconds(90 * 86_400)
    /// scrypt cost of password hashes.
    public var password = PasswordHasher.Parameters()
    /// Failed logins per account: 5 within 15 minutes lock it for 15 minutes.
    public var accountFailures = FailureLimit(maximumFailures: 5, window: .seconds(900), lockout: .seconds(900))
    /// Failed logins per source address: 20 within 15 minutes lock it out for 15 minutes.
    public var sourceFailures = FailureLimit(maximumFailures: 20, window: .seconds(900), lockout: .seconds(900))
    /// How long a retired signing key keeps verifying (at least the access-token lifetime). Default 1 hour.
    public var retiredKeyRetention: Duration = .seconds(3600)
    /// Timeout of a node's calls to the authority (and of the transfer coordinator's calls to the agents).
    public var callTimeout: Duration = .seconds(5)
    /// How cross-region transfers retry.
    public var transfer = Transfer()
    /// Tests only: called after the coordinator recorded each transfer step; throwing stops the
    /// coordinator right there, as if its node had died (the transfer resumes when it restarts).
    public var afterTransferStep: (@Sendable (TransferRecord) async throws -> Void)?

    /// How the transfer coordinator retries a step whose node did not answer.
    public struct Transfer: Sendable, Hashable {
        /// The first pause before a step is tried again; it doubles up to ``maximumRetryPause``. Default 100 ms.
        public var retryPause: Duration = .milliseconds(100)
        /// Default 2 s.
        public var maximumRetryPause: Duration = .seconds(2)
        /// Unanswered attempts of a step before the flip after which the transfer rolls back
        /// (about a minute with the default pauses). After the flip a step is retried until it
        /// works. Default 35.
        public var attemptsBeforeRollback = 35
        /// How long after a transfer that moved a player the player may not ask to move again
        /// (``IdentityNode/requestTransfer(player:to:)``; an operator's transfer is not limited).
        /// Default 24 hours.
        public var playerCooldown: Duration = .seconds(24 * 3600)

        public init() {}
    }

    public struct FailureLimit: Sendable, Hashable {
        public var maximumFailures: Int
        public var window: Duration
        public var lockout: Duration

        public init(maximumFailures: Int, window: Duration, lockout: Duration) {
            self.maximumFailures = maximumFailures
            self.window = window
            self.lockout = lockout
        }
    }

    public init(authorityRegion: String) {
        self.authorityRegion = authorityRegion
    }

    /// The configuration a topology implies: its authority region and `dev_login`.
    public static func node(of topology: Topology) -> IdentityConfiguration {
        var configuration = IdentityConfiguration(authorityRegion: topology.identityAuthority)
        configuration.devLogin = topology.devLogin
        return configuration
    }
}
