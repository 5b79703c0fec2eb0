import Crypto
import Distributed
import Foundation
import Logging
import MeridianClock
import MeridianCluster
import MeridianMembership
import MeridianStorage
import MeridianTopology
import MeridianWire
import SwiftProtobuf

/// The identity authority: runs on one node of the topology's `identity_authority` region
/// (``IdentityPlacement/authorityNode(in:)``) over that node's store. It creates accounts,
/// checks credentials, issues access and refresh tokens, owns the signing key set and the
/// home-region directory, and tells every node's ``IdentityReplica`` when keys, directory entries
/// or sessions change.
package distributed actor IdentityAuthority {
    package typealias ActorSystem = ClusterSystem

    let store: any AccountStore
    let configuration: IdentityConfiguration
    let topology: Topology
    let hasher: PasswordHasher
    let now: @Sendable () -> Date
    let logger: Logger
    private var signer: AccessTokenSigner?
    var throttle: LoginThrottle<AnyClock.Instant>

    init(
        actorSystem: ClusterSystem, store: any AccountStore, configuration: IdentityConfiguration, topology: Topology,
        now: @escaping @Sendable () -> Date, logger: Logger
    ) {
        self.actorSystem = actorSystem
        self.store = store
        self.configuration = configuration
        self.topology = topology
        self.hasher = PasswordHasher(parameters: configuration.password)
        self.now = now
        self.logger = logger
        func limits(_ limit: IdentityConfiguration.FailureLimit) -> LoginThrottle<AnyClock.Instant>.Limits {
            .init(maximumFailures: limit.maximumFailures, window: limit.window, lockout: limit.lockout)
        }
        self.throttle = LoginThrottle(perAccount: limits(configuration.accountFailures), perSource: limits(configuration.sourceFailures))
    }

    // MARK: Logins

    /// Checks the credentials of `request` (creating the account where the method allows) and issues tokens.
    package distributed func login(_ request: Meridian_Identity_V1_LoginRequest) async -> Meridian_Identity_V1_LoginReply {
        do {
            let (account, created) = try await authenticate(request)
            let grant = try await issue(for: account, created: created)
            return Meridian_Identity_V1_LoginReply.with { $0.grant = grant }
        } catch let refusal as IdentityRefusal {
            return .init(refusal: refusal)
        } catch {
            logger.warning("login failed", metadata: ["meridian.error": "\(error)"])
            return .init(refusal: IdentityRefusal(.unavailable, "the identity store did not answer; retry"))
        }
    }

    /// Spends a refresh token and issues the next one with a new access token.
    package distributed func refresh(_ request: Meridian_Identity_V1_RefreshRequest) async -> Meridian_Identity_V1_LoginReply {
        guard let hash = RefreshToken.hash(ofToken: request.refreshToken) else {
            return .init(refusal: IdentityRefusal(.refreshInvalid, "the refresh token is malformed; log in again"))
        }
        do {
            let time = now()
            let (next, nextHash) = RefreshToken.make()
            let record = RefreshTokenRecord(
                hash: nextHash, family: UUID(), player: UUID(), issuedAt: time,
                expiresAt: time.addingTimeInterval(configuration.refreshTokenLifetime.seconds), familyExpiresAt: time
            )
            switch try await store.rotateRefreshToken(hash: hash, now: time, next: record) {
            case .rotated(let account, let family):
                let grant = try grant(for: account, session: family, refreshToken: next, refreshExpiresAt: record.expiresAt, created: false)
                return Meridian_Identity_V1_LoginReply.with { $0.grant = grant }
            case .reused(let player, let family):
                logger.warning("a spent refresh token was presented again; its login is revoked", metadata: [
                    "meridian.player": "\(player)", "meridian.session": "\(family)",
                ])
                await revoke(sessions: [family])
                return .init(refusal: IdentityRefusal(.refreshInvalid, "this refresh token was already used; the login it belongs to is closed everywhere: log in again"))
            case .invalid:
                return .init(refusal: IdentityRefusal(.refreshInvalid, "the refresh token is unknown, revoked or expired; log in again"))
            }
        } catch {
            logger.warning("refresh failed", metadata: ["meridian.error": "\(error)"])
            return .init(refusal: IdentityRefusal(.unavailable, "the identity store did not answer; retry"))
        }
    }

    /// Ends the login `session` everywhere: its refresh tokens are revoked and every node refuses its access tokens.
    package distributed func logout(session: UUID) async throws {
        try await store.revokeRefreshFamily(session)
        await revoke(sessions: [session])
    }

    // MARK: Directory and keys

    package distributed func lookup(player: UUID) async throws -> Meridian_Identity_V1_DirectoryLookup {
        var reply = Meridian_Identity_V1_DirectoryLookup()
        if let account = try await store.account(player) {
            reply.found = true
            reply.entry = DirectoryEntry(account).proto
        }
        return reply
    }

    /// Directory entries changed after `version` (a replica catching up), at most `limit`.
    package distributed func changes(after version: Int64, limit: Int) async throws -> Meridian_Identity_V1_DirectoryChanges {
        var reply = Meridian_Identity_V1_DirectoryChanges()
        reply.entries = try await store.directoryChanges(after: version, limit: min(max(1, limit), 1000)).map { DirectoryEntry($0).proto }
        reply.latest = try await store.directoryVersion()
        return reply
    }

    /// The public keys that verify access tokens (retired ones until their tokens expired).
    package distributed func keySet() async throws -> Meridian_Identity_V1_KeySet {
        try await Self.keySet(of: try await store.signingKeys())
    }

    // MARK: Administration (cluster members: operators' commands)

    /// An account as an operator sees it, by player id or username (exactly one given).
    package distributed func details(player: UUID?, username: String?) async throws -> Meridian_Identity_V1_AccountDetails {
        let account: AccountRecord?
        if let player {
            account = try await store.account(player)
        } else if let username, let name = try? Self.normalizedUsername(username) {
            account = try await store.account(method: LoginMethodKey(kind: .password, subject: name))?.account
        } else {
            account = nil
        }
        return try await describe(account)
    }

    /// Links another login method to the account (the player asked, from a logged-in session).
    /// Returns the account's methods; a method linked already (here or elsewhere) is refused with
    /// ``IdentityRefusal/Code/alreadyExists``.
    package distributed func link(_ request: Meridian_Identity_V1_LinkRequest) async -> Meridian_Identity_V1_MethodsReply {
        await methodsReply { try await $0.linking(request) }
    }

    /// Unlinks a method (by kind; by subject too where the account has several of that kind).
    /// The last method of an account stays: the player could never log in again.
    package distributed func unlink(_ request: Meridian_Identity_V1_UnlinkRequest) async -> Meridian_Identity_V1_MethodsReply {
        await methodsReply { try await $0.unlinking(request) }
    }

    private func methodsReply(
        _ body: (isolated IdentityAuthority) async throws -> Meridian_Identity_V1_AccountDetails
    ) async -> Meridian_Identity_V1_MethodsReply {
        do {
            let details = try await body(self)
            return .with { $0.details = details }
        } catch let refusal as IdentityRefusal {
            return .init(refusal: refusal)
        } catch {
            logger.warning("linking failed", metadata: ["meridian.error": "\(error)"])
            return .init(refusal: IdentityRefusal(.unavailable, "the identity store did not answer; retry"))
        }
    }

    private func linking(_ request: Meridian_Identity_V1_LinkRequest) async throws -> Meridian_Identity_V1_AccountDetails {
        guard let player = UUID(wireBytes: request.player) else { throw IdentityRefusal(.invalidRequest, "a link names its player") }
        let method = try await methodToLink(request)
        do {
            _ = try await store.linkMethod(method, to: player)
        } catch {
            switch error.code {
            case .alreadyExists: throw IdentityRefusal(.alreadyExists, "that login method is linked to an account already; unlink it there first")
            case .playerNotFound: throw IdentityRefusal(.invalidRequest, "no such account")
            case .invalidArgument: throw IdentityRefusal(.invalidRequest, error.message)
            default: throw error
            }
        }
        logger.info("login method linked", metadata: ["meridian.player": "\(player)", "meridian.identity.method": "\(method.key.kind.rawValue)"])
        return try await describe(try await store.account(player))
    }

    private func unlinking(_ request: Meridian_Identity_V1_UnlinkRequest) async throws -> Meridian_Identity_V1_AccountDetails {
        guard let player = UUID(wireBytes: request.player), let kind = LoginMethodKind(rawValue: request.kind), kind != .dev else {
            throw IdentityRefusal(.invalidRequest, "an unlink names its player and a kind: password, device or platform")
        }
        let methods = try await store.loginMethods(of: player)
        let candidates = methods.filter { $0.key.kind == kind && (request.subject.isEmpty || $0.key.subject == request.subject) }
        guard let method = candidates.first else { throw IdentityRefusal(.invalidRequest, "the account has no such login method") }
        guard candidates.count == 1 else { throw IdentityRefusal(.invalidRequest, "the account has several \(kind.rawValue) methods; name the one to unlink") }
        guard methods.count > 1 else { throw IdentityRefusal(.invalidRequest, "that is the account's only login method; link another one first") }
        do {
            _ = try await store.unlinkMethod(method.key, from: player)
        } catch {
            throw error.code == .invalidArgument ? IdentityRefusal(.invalidRequest, error.message) : error
        }
        logger.info("login method unlinked", metadata: ["meridian.player": "\(player)", "meridian.identity.method": "\(kind.rawValue)"])
        return try await describe(try await store.account(player))
    }

    /// The account a device logs in to (tools: the load generator's bots are device accounts).
    package distributed func details(device: String) async throws -> Meridian_Identity_V1_AccountDetails {
        try await describe(try await store.account(method: LoginMethodKey(kind: .device, subject: device))?.account)
    }

    private func describe(_ account: AccountRecord?) async throws -> Meridian_Identity_V1_AccountDetails {
        var details = Meridian_Identity_V1_AccountDetails()
        guard let account else { return details }
        details.found = true
        details.entry = DirectoryEntry(account).proto
        details.methods = try await store.loginMethods(of: account.id).map { method in
            var linked = Meridian_Identity_V1_LinkedMethod()
            linked.kind = method.key.kind.rawValue
            linked.subject = method.key.kind == .password ? method.key.subject : ""
            linked.linkedAtMs = method.linkedAt.milliseconds
            return linked
        }
        return details
    }

    /// Creates an account in `home_region` (an operator's `meridian account create`, a load generator's bots).
    package distributed func createAccount(_ request: Meridian_Identity_V1_AdminCreateAccount) async -> Meridian_Identity_V1_LoginReply {
        do {
            guard topology.region(named: request.homeRegion) != nil else {
                throw IdentityRefusal(.invalidRequest, "region \(request.homeRegion) is not in the topology")
            }
            var login = Meridian_Identity_V1_LoginRequest()
            login.gatewayRegion = request.homeRegion
            login.source = "admin"
            switch request.method {
            case .password(let password):
                var create = password
                create.create = true
                login.password = create
            case .dev(let dev):
                login.dev = dev
            case nil:
                throw IdentityRefusal(.invalidRequest, "name a login method for the new account")
            }
            let (account, created) = try await authenticate(login, allowDev: true)
            let grant = try await issue(for: account, created: created)
            return Meridian_Identity_V1_LoginReply.with { $0.grant = grant }
        } catch let refusal as IdentityRefusal {
            return .init(refusal: refusal)
        } catch {
            return .init(refusal: IdentityRefusal(.unavailable, "the identity store did not answer: \(error)"))
        }
    }

    /// Bans or unbans: a ban revokes the player's refresh tokens, and every node closes the
    /// player's live sessions when the directory change reaches it.
    package distributed func setBanned(player: UUID, banned: Bool) async throws -> Meridian_Identity_V1_DirectoryEntry {
        try actorSystem.requireMemberCaller(for: banned ? "ban players" : "unban players")
        let account = try await store.setAccountState(player, to: banned ? .banned : .active)
        if banned { try await store.revokeRefreshTokens(of: player) }
        await publish(entries: [DirectoryEntry(account)])
        return DirectoryEntry(account).proto
    }

    /// Starts signing with a new key; the old ones keep verifying until their tokens expired.
    package distributed func rotateKeys() async throws -> Meridian_Identity_V1_KeySet {
        try actorSystem.requireMemberCaller(for: "rotate the signing keys")
        try await addKey()
        let keys = try await keySet()
        await publish(keys: keys)
        return keys
    }

    // MARK: Local

    /// Loads the newest signing key, making the first one if the store has none.
    func prepare() async throws {
        let keys = try await store.signingKeys()
        if let newest = keys.last(where: { $0.retiredAt == nil }) ?? keys.last {
            signer = AccessTokenSigner(
                keyID: newest.id, key: try TokenSigningKey(stored: newest.privateKey), cluster: actorSystem.configuration.cluster
            )
        } else {
            try await addKey()
        }
        let expired = now().addingTimeInterval(-max(configuration.retiredKeyRetention, configuration.accessTokenLifetime).seconds)
        try await store.deleteSigningKeys(retiredBefore: expired)
    }

    private func addKey() async throws {
        let key = try TokenSigningKey.generate()
        let id = "k" + String(UInt64(now().milliseconds), radix: 36) + "-" + UUID().uuidString.prefix(4).lowercased()
        try await store.addSigningKey(SigningKeyRecord(
            id: id, privateKey: key.privateKeyBytes, publicKey: key.publicKeyBytes, createdAt: now()
        ))
        signer = AccessTokenSigner(keyID: id, key: key, cluster: actorSystem.configuration.cluster)
        logger.info("identity signing key added", metadata: ["meridian.identity.key": "\(id)"])
    }

    static func keySet(of keys: [SigningKeyRecord]) async throws -> Meridian_Identity_V1_KeySet {
        var set = Meridian_Identity_V1_KeySet()
        set.keys = keys.map { key in
            var proto = Meridian_Identity_V1_SigningKey()
            proto.keyID = key.id
            proto.publicKey = key.publicKey
            proto.createdAtMs = key.createdAt.milliseconds
            proto.retiredAtMs = key.retiredAt?.milliseconds ?? 0
            return proto
        }
        return set
    }

    /// A new login of `account`: a refresh-token family and its first token, and an access token.
    private func issue(for account: AccountRecord, created: Bool) async throws -> Meridian_Identity_V1_LoginGrant {
        let time = now()
        let session = UUID()
        let (token, hash) = RefreshToken.make()
        let expiresAt = time.addingTimeInterval(configuration.refreshTokenLifetime.seconds)
        let familyEnd = time.addingTimeInterval(configuration.sessionLifetime.seconds)
        try await store.insertRefreshToken(RefreshTokenRecord(
            hash: hash, family: session, player: account.id, issuedAt: time, expiresAt: min(expiresAt, familyEnd), familyExpiresAt: familyEnd
        ))
        return try grant(for: account, session: session, refreshToken: token, refreshExpiresAt: min(expiresAt, familyEnd), created: created)
    }

    private func grant(
        for account: AccountRecord, session: UUID, refreshToken: String, refreshExpiresAt: Date, created: Bool
    ) throws -> Meridian_Identity_V1_LoginGrant {
        guard let signer else { throw IdentityRefusal(.unavailable, "the identity authority has no signing key yet; retry") }
        let issued = now().unixSeconds
        let expires = issued + UInt64(max(1, configuration.accessTokenLifetime.seconds))
        let claims = AccessClaims(
            player: account.id, homeRegion: account.homeRegion, epoch: account.epoch.rawValue, session: session,
            issuedAt: issued, expiresAt: expires, keyID: signer.keyID
        )
        var grant = Meridian_Identity_V1_LoginGrant()
        grant.accessToken = try signer.sign(claims)
        grant.accessExpiresAtUnix = expires
        grant.refreshToken = refreshToken
        grant.refreshExpiresAtUnix = refreshExpiresAt.unixSeconds
        grant.account = DirectoryEntry(account).proto
        grant.created = created
        grant.session = session.wire
        return grant
    }
}

extension Duration {
    /// Whole and fractional seconds, for `Date` arithmetic.
    package var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
