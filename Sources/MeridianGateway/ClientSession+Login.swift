import Distributed
import Foundation
import Logging
import MeridianCatalog
import MeridianClock
import MeridianCluster
import MeridianGame
import MeridianIdentity
import MeridianMatchmaking
import MeridianRegion
import MeridianSimulation
import MeridianStorage
import MeridianTopology
import MeridianWire
import Synchronization

/// Logins and renewals: each method's request to the identity layer, the rate limits on them,
/// and the steps that make a connection logged in.
extension ClientSession {
    /// A login or a renewal; the state machine is told it succeeded only once all of it did.
    func authenticate(_ body: Meridian_Client_V1_ClientMessage.OneOf_Body, id: UInt64) async throws(GatewayError) {
        switch body {
        case .devLogin(let login):
            try admitLogin(mayCreate: false)
            guard context.identity.configuration.devLogin else {
                throw GatewayError(.refused, "development logins are disabled in this cluster; log in with a password or a device")
            }
            var request = Meridian_Identity_V1_LoginRequest()
            request.dev.player = login.playerID
            request.dev.displayName = login.displayName
            try await logIn(request, requestID: id)
        case .passwordLogin(let login):
            try admitLogin(mayCreate: login.create)
            var request = Meridian_Identity_V1_LoginRequest()
            request.password = Self.passwordCredentials(login)
            try await logIn(request, requestID: id)
        case .deviceLogin(let login):
            try admitLogin(mayCreate: true)  // an unknown device makes a guest account
            var request = Meridian_Identity_V1_LoginRequest()
            request.device = Self.deviceCredentials(login)
            try await logIn(request, requestID: id)
        case .platformLogin(let login):
            try admitLogin(mayCreate: true)  // an unknown platform identity makes an account
            var request = Meridian_Identity_V1_LoginRequest()
            request.platform = Self.platformCredentials(login)
            try await logIn(request, requestID: id)
        case .refresh(let refresh):
            try admitLogin(mayCreate: false)
            let grant: LoginGrant
            do { grant = try await context.identity.refresh(refresh.refreshToken, source: source) } catch { throw GatewayError(error) }
            try await granted(grant, requestID: id)
        case .resume(let resume):
            try admitLogin(mayCreate: false)
            let claims: AccessClaims
            do { claims = try await context.identity.verify(resume.token) } catch {
                throw GatewayError(.badToken, error.message)
            }
            // The directory has the last word: a ban or a move home since the token was issued (the
            // cache, else the authority; the token's own word only when neither answers).
            let entry = (try? await context.identity.entry(of: claims.player)) ?? nil
            if entry?.state == .banned { throw GatewayError(.banned, "this account is banned") }
            try await loggedIn(
                player: claims.player, homeRegion: entry?.homeRegion ?? claims.homeRegion, login: claims.session,
                displayName: entry?.displayName ?? "", grant: nil, token: (resume.token, claims.expiresAt), requestID: id
            )
        default:
            throw GatewayError(.malformed, "not a login")
        }
    }

    /// Counts a login attempt against the source address's limits (and, for a login that may
    /// create an account, its registrations); too many closes the connection with RATE_LIMITED.
    func admitLogin(mayCreate: Bool) throws(GatewayError) {
        let (source, now) = (self.source, context.system.clock.now)
        let refusal = context.admission.withLock { admission in
            admission.login(from: source, now: now) ?? (mayCreate ? admission.mayRegister(from: source, now: now) : nil)
        }
        if let refusal { throw refusal }
    }

    /// Logs in at the identity authority; a new account's home is this gateway's region.
    func logIn(_ request: Meridian_Identity_V1_LoginRequest, requestID: UInt64) async throws(GatewayError) {
        var request = request
        request.gatewayRegion = context.region
        request.source = source
        let grant: LoginGrant
        do { grant = try await context.identity.login(request) } catch { throw GatewayError(error) }
        try await granted(grant, requestID: requestID)
    }

    func granted(_ grant: LoginGrant, requestID: UInt64) async throws(GatewayError) {
        let account = grant.account
        if grant.created {
            let (source, now) = (self.source, context.system.clock.now)
            context.admission.withLock { $0.registered(from: source, now: now) }
        }
        // The player's data lives in the home region: make sure it exists there (idempotent).
        _ = try await call { try await self.context.directory.home(of: account.player, region: account.homeRegion).create(displayName: account.displayName) }
        try await loggedIn(
            player: account.player, homeRegion: account.homeRegion, login: grant.session,
            displayName: account.displayName, grant: grant, token: (grant.accessToken, grant.accessExpiresAt), requestID: requestID
        )
    }

    /// The connection is logged in only once all of this succeeded: the home watches the session
    /// for this gateway, and the reply is on its way.
    func loggedIn(
        player: UUID, homeRegion: String, login: UUID, displayName: String, grant: LoginGrant?, token: (String, UInt64), requestID: UInt64
    ) async throws(GatewayError) {
        // A renewal must prove the same player before anything is done for the one it names.
        if let current = link.withLock({ $0.state.player }), current != player {
            throw GatewayError(.refused, "this connection is logged in as another player; open a new connection")
        }
        // The home pushes every change of the session to this gateway (the queue matched or ended, the match over).
        let (home, watched) = try await call { try await self.watchHome(of: player, in: homeRegion) }
        let session = watched.session
        homeSession = watched
        self.player = player
        self.homeRegion = homeRegion
        self.displayName = displayName
        self.login = login
        let close = self.close
        let outbox = self.outbox
        context.sessionChanges.register(player, session: self, connection: .init(
            token: ObjectIdentifier(self), login: login, homeRegion: homeRegion, homeNode: home.id.node,
            changed: { [weak self] session, version in Task { await self?.sessionPushed(session, version: version) } },
            homeLost: { [weak self] in Task { await self?.watchHomeAgain() } },
            homeMoved: { [weak self] region, epoch in Task { await self?.homeMoved(to: region, epoch: epoch) } },
            invited: { leader, leaderName in
                var push = Meridian_Client_V1_ServerMessage()
                push.partyInvitation.leaderID = leader.uuidString.lowercased()
                push.partyInvitation.leaderName = leaderName
                outbox.send(push)
            },
            close: { [weak self] error in
                let proceed = self?.link.withLock { $0.state.close(error) } ?? true
                if proceed { close(error) }
            }
        ))
        try link.withLock { link throws(GatewayError) in try link.state.loginSucceeded(player: player) }
        context.counters.withLock { $0.logins += 1 }
        context.metrics.loggedIn()
        var reply = Meridian_Client_V1_ServerMessage()
        reply.requestID = requestID
        reply.login.token = token.0
        reply.login.playerID = player.uuidString.lowercased()
        reply.login.homeRegion = homeRegion
        reply.login.expiresAtUnix = token.1
        reply.login.displayName = displayName
        if let grant {
            reply.login.refreshToken = grant.refreshToken
            reply.login.refreshExpiresAtUnix = grant.refreshExpiresAt
            reply.login.created = grant.created
        }
        reply.login.session = Self.sessionState(session)
        outbox.send(reply)
        switch session {
        case .inMatch(let assignment):
            await enter(assignment, player: player, resumed: true)
        case .queued(let queued, let region):
            ticket = (queued.id, region)
        case .idle:
            break
        }
    }

    // The client's credentials as the identity layer takes them, for a login and for a link alike.

    static func passwordCredentials(_ login: Meridian_Client_V1_PasswordLogin) -> Meridian_Identity_V1_PasswordCredentials {
        var credentials = Meridian_Identity_V1_PasswordCredentials()
        credentials.username = login.username
        credentials.password = login.password
        credentials.create = login.create
        credentials.displayName = login.displayName
        return credentials
    }

    static func deviceCredentials(_ login: Meridian_Client_V1_DeviceLogin) -> Meridian_Identity_V1_DeviceCredentials {
        var credentials = Meridian_Identity_V1_DeviceCredentials()
        credentials.deviceID = login.deviceID
        credentials.deviceSecret = login.deviceSecret
        credentials.displayName = login.displayName
        return credentials
    }

    static func platformCredentials(_ login: Meridian_Client_V1_PlatformLogin) -> Meridian_Identity_V1_PlatformCredentials {
        var credentials = Meridian_Identity_V1_PlatformCredentials()
        credentials.platform = login.platform
        credentials.ticket = login.ticket
        credentials.displayName = login.displayName
        return credentials
    }

    static func loginMethods(_ details: Meridian_Identity_V1_AccountDetails, requestID: UInt64) -> Meridian_Client_V1_ServerMessage {
        var reply = Meridian_Client_V1_ServerMessage()
        reply.requestID = requestID
        reply.methods.methods = details.methods.map { linked in
            var method = Meridian_Client_V1_LoginMethod()
            method.kind = linked.kind
            method.subject = linked.subject
            return method
        }
        return reply
    }

    /// Links another login method to the logged-in account (LinkMethod).
    func linkMethod(_ link: Meridian_Client_V1_LinkMethod, id: UInt64, player: UUID) async throws(GatewayError) {
        var request = Meridian_Identity_V1_LinkRequest()
        switch link.method {
        case .password(let login):
            request.password = Self.passwordCredentials(login)
            request.password.create = false  // linking adds a method; it never registers an account
        case .device(let login):
            request.device = Self.deviceCredentials(login)
        case .platform(let login):
            request.platform = Self.platformCredentials(login)
        case nil:
            throw GatewayError(.refused, "name a login method to link")
        }
        let details: Meridian_Identity_V1_AccountDetails
        do { details = try await context.identity.link(player: player, request) } catch { throw GatewayError(error) }
        outbox.send(Self.loginMethods(details, requestID: id))
    }

    /// Unlinks a login method of the logged-in account (UnlinkMethod).
    func unlinkMethod(_ unlink: Meridian_Client_V1_UnlinkMethod, id: UInt64, player: UUID) async throws(GatewayError) {
        let details: Meridian_Identity_V1_AccountDetails
        do {
            details = try await context.identity.unlink(player: player, kind: unlink.kind, subject: unlink.subject.lowercased())
        } catch {
            throw GatewayError(error)
        }
        outbox.send(Self.loginMethods(details, requestID: id))
    }
}
