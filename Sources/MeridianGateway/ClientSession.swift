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

/// One client connection's protocol state: Hello, then a login, then requests. It routes the
/// client's calls to the player's actor in its home region and to the player's match wherever
/// it runs, and follows the player's session (queued → matched) to subscribe to the match.
actor ClientSession {
    /// What the connection's reader reads and changes without waiting for the actor: the
    /// connection's protocol state (a pure state machine), and the uplink to the player's match
    /// (inputs and acks go straight to it).
    private struct Link {
        var state = ClientConnectionState()
        var uplink: (MatchUplink, player: UUID)?
    }

    private let context: GatewayContext
    private let outbox: ClientOutbox
    /// The client's address, for the identity layer's attempt limits.
    private let source: String
    /// Sends an error to the client and closes the connection (a ban, a newer login, a logout).
    private let close: @Sendable (GatewayError) -> Void
    private nonisolated let link = Mutex(Link())
    private var player: UUID?
    private var homeRegion: String?
    private var displayName = ""
    /// The login (access tokens' `session`) this connection authenticated with.
    private var login: UUID?
    private var ticket: (id: UUID, region: String)?
    private var match: MatchAssignment? {
        didSet {
            // The uplink belongs to the match's feed; it is set once the feed attached the player.
            if oldValue?.matchID != match?.matchID { link.withLock { $0.uplink = nil } }
        }
    }
    /// When the client last cancelled its queue: it may queue again only after ``GatewayConfiguration/queueCooldown``.
    private var lastCancel: AnyClock.Instant?
    private var poller: Task<Void, Never>?
    /// While in a match: checks the player's home now and then, so a match that ended without
    /// its result or end reaching this gateway still ends for the client.
    private var matchWatch: Task<Void, Never>?
    /// How often ``matchWatch`` asks the player's home.
    private static let matchWatchInterval: Duration = .seconds(5)

    init(context: GatewayContext, outbox: ClientOutbox, source: String, close: @escaping @Sendable (GatewayError) -> Void) {
        self.context = context
        self.outbox = outbox
        self.source = source
        self.close = close
    }

    private static var loginFirst: GatewayError { ClientConnectionState.loginFirst }

    nonisolated var isLoggedIn: Bool { link.withLock { $0.state.isLoggedIn } }

    /// What `body` is to the connection's state machine.
    private nonisolated static func kind(of body: Meridian_Client_V1_ClientMessage.OneOf_Body) -> ClientConnectionState.Message {
        switch body {
        case .hello(let hello): .hello(version: hello.protocolVersion)
        case .ping, .locate: .anytime
        case .devLogin, .passwordLogin, .deviceLogin, .platformLogin: .login
        case .refresh, .resume: .renewal
        case .queue, .cancelQueue, .inputs, .ack, .getProfile, .getCatalog, .leaveMatch, .logout, .partyInvite, .partyAccept, .partyLeave,
             .moveHome, .linkMethod, .unlinkMethod:
            .request
        }
    }

    /// Serves what needs nothing from the cluster — Hello, Ping, Locate, GetCatalog — and hands
    /// inputs and acks to the match's uplink, right on the connection's reader (no hop to the
    /// actor on the hot path). Returns false for the rest, which ``handle(_:)`` serves.
    nonisolated func answerDirectly(_ message: Meridian_Client_V1_ClientMessage) throws(GatewayError) -> Bool {
        let id = message.requestID
        guard let body = message.body else { throw GatewayError(.malformed, "a message without a body") }
        let kind = Self.kind(of: body)
        let (admission, uplink) = try link.withLock { link throws(GatewayError) in
            (try link.state.receive(kind, protocolVersion: clientProtocolVersion), link.uplink)
        }
        if admission == .welcome {
            var reply = Meridian_Client_V1_ServerMessage()
            reply.requestID = id
            reply.welcome.protocolVersion = clientProtocolVersion
            reply.welcome.node = context.system.nodeID
            reply.welcome.region = context.region
            reply.welcome.maxFrameBytes = UInt32(context.configuration.maxFrameBytes)
            outbox.send(reply)
            return true
        }
        switch body {
        case .ping(let ping):
            var reply = Meridian_Client_V1_ServerMessage()
            reply.requestID = id
            reply.pong.clientTimeUs = ping.clientTimeUs
            reply.pong.serverTimeUs = UInt64(Date().timeIntervalSince1970 * 1_000_000)
            outbox.send(reply)
        case .locate:
            outbox.send(locate(id))
        case .getCatalog:
            outbox.send(catalogView(id))
        case .inputs(let batch):
            guard batch.inputs.count <= context.configuration.maxInputsPerBatch else {
                throw GatewayError(.malformed, "at most \(context.configuration.maxInputsPerBatch) inputs per batch, got \(batch.inputs.count)")
            }
            guard let (uplink, player) = uplink else { return true }  // between matches: inputs are dropped
            if let last = batch.inputs.last { outbox.noteInput(sequence: last.sequence) }
            let inputs = batch.inputs.map { input in
                InputMessage(PlayerInput(
                    sequence: input.sequence, moveX: Int8(clamping: input.moveX), moveY: Int8(clamping: input.moveY),
                    aim: UInt16(truncatingIfNeeded: input.aim), fire: input.fire, reload: input.reload
                ))
            }
            uplink.offer(player: player, inputs: inputs, ack: batch.ackTick == 0 ? nil : batch.ackTick)
        case .ack(let ack):
            if let (uplink, player) = uplink { uplink.offer(player: player, ack: ack.tick) }
        default:
            return false
        }
        return true
    }

    /// Serves what goes to the cluster: logins, queueing, the profile, leaving a match. A thrown
    /// error is sent to the client; if it closes the connection the caller stops reading.
    func handle(_ message: Meridian_Client_V1_ClientMessage) async throws(GatewayError) {
        let id = message.requestID
        guard let body = message.body else { throw GatewayError(.malformed, "a message without a body") }
        switch Self.kind(of: body) {
        case .login, .renewal:
            do {
                try await authenticate(body, id: id)
            } catch {
                link.withLock { $0.state.loginFailed() }
                throw error
            }
        default:
            try await serve(body, id: id)
        }
    }

    /// A login or a renewal; the state machine is told it succeeded only once all of it did.
    private func authenticate(_ body: Meridian_Client_V1_ClientMessage.OneOf_Body, id: UInt64) async throws(GatewayError) {
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
            request.password.username = login.username
            request.password.password = login.password
            request.password.create = login.create
            request.password.displayName = login.displayName
            try await logIn(request, requestID: id)
        case .deviceLogin(let login):
            try admitLogin(mayCreate: true)  // an unknown device makes a guest account
            var request = Meridian_Identity_V1_LoginRequest()
            request.device.deviceID = login.deviceID
            request.device.deviceSecret = login.deviceSecret
            request.device.displayName = login.displayName
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

    /// A request of a logged-in connection.
    private func serve(_ body: Meridian_Client_V1_ClientMessage.OneOf_Body, id: UInt64) async throws(GatewayError) {
        switch body {
        case .logout:
            guard let login else { throw Self.loginFirst }
            try link.withLock { link throws(GatewayError) in try link.state.logoutStarted() }
            do { try await context.identity.logout(session: login) } catch {
                link.withLock { $0.state.logoutFailed() }
                throw GatewayError(error)
            }
            var reply = Meridian_Client_V1_ServerMessage()
            reply.requestID = id
            reply.loggedOut = .init()
            outbox.send(reply)
            close(GatewayError(.loggedOut, "logged out"))
        default:
            guard isLoggedIn, let player, let homeRegion else { throw Self.loginFirst }
            try await handleLoggedIn(body, id: id, player: player, homeRegion: homeRegion)
        }
    }

    private func handleLoggedIn(_ body: Meridian_Client_V1_ClientMessage.OneOf_Body, id: UInt64, player: UUID, homeRegion: String) async throws(GatewayError) {
        switch body {
        case .queue(let queue):
            try await enqueue(queue, id: id, player: player, homeRegion: homeRegion)
        case .cancelQueue:
            if let ticket {
                let cancelled = try await call { try await self.context.game.withMatchmaker(of: ticket.region) { try await $0.cancel(ticketID: ticket.id) } }
                if !cancelled { await endQueueAtHome(ticket.id, player: player, homeRegion: homeRegion) }
            }
            ticket = nil
            poller?.cancel()
            lastCancel = context.system.clock.now
            outbox.send(queueStatus(id, queued: false, reason: "cancelled"))
        case .getProfile:
            let view = try await call { try await self.context.directory.home(of: player, region: homeRegion).view() }
            outbox.send(Self.profile(view, requestID: id))
        case .leaveMatch:
            if let match {
                try? await context.game.match(match).leave(player: player)
                context.router.detach(player: player, matchID: match.matchID)
                self.match = nil
            }
            var reply = Meridian_Client_V1_ServerMessage()
            reply.requestID = id
            reply.matchEvent.phase = "left"
            outbox.send(reply)
        case .linkMethod(let link):
            var request = Meridian_Identity_V1_LinkRequest()
            switch link.method {
            case .password(let login):
                request.password.username = login.username
                request.password.password = login.password
            case .device(let login):
                request.device.deviceID = login.deviceID
                request.device.deviceSecret = login.deviceSecret
            case .platform(let login):
                request.platform = Self.platformCredentials(login)
            case nil:
                throw GatewayError(.refused, "name a login method to link")
            }
            let details: Meridian_Identity_V1_AccountDetails
            do { details = try await context.identity.link(player: player, request) } catch { throw GatewayError(error) }
            outbox.send(Self.loginMethods(details, requestID: id))
        case .unlinkMethod(let unlink):
            let details: Meridian_Identity_V1_AccountDetails
            do {
                details = try await context.identity.unlink(player: player, kind: unlink.kind, subject: unlink.subject.lowercased())
            } catch {
                throw GatewayError(error)
            }
            outbox.send(Self.loginMethods(details, requestID: id))
        case .moveHome(let move):
            guard ticket == nil, match == nil else {
                throw GatewayError(.refused, "leave the queue and finish your match before moving home")
            }
            guard context.topology.region(named: move.region) != nil else { throw GatewayError(.refused, "there is no region \(move.region)") }
            guard move.region != homeRegion else { throw GatewayError(.refused, "\(move.region) is your home already") }
            let record: TransferRecord
            do { record = try await context.identity.requestTransfer(player: player, to: move.region) } catch { throw GatewayError(error) }
            guard record.step == .done else {
                throw GatewayError(.refused, "your home did not move: \(record.failure ?? "the transfer was rolled back")")
            }
            // The directory's push may have re-routed this connection already; if not, now.
            guard await rehome(to: record.to) else {
                close(GatewayError(.homeMoved, "your home region moved to \(record.to); resume with the same token"))
                return
            }
            outbox.send(homeChanged(id, region: record.to, epoch: record.toEpoch.rawValue))
        case .partyInvite(let invite):
            // One answer for an unknown, banned, offline or flooded invitee: nothing about them leaks.
            let refused = GatewayError(.refused, "that player cannot be invited now")
            guard let invitee = UUID(uuidString: invite.playerID), invitee != player,
                  let entry = try? await context.identity.entry(of: invitee), entry.state == .active
            else { throw refused }
            let leaderName = displayName
            do {
                try await call { try await self.context.directory.home(of: invitee, region: entry.homeRegion).invite(from: player, leaderName: leaderName) }
            } catch where error.code == .refused {
                throw refused
            }
            outbox.send(partyStatus(id, leader: player))
        case .partyAccept(let accept):
            guard let leader = UUID(uuidString: accept.leaderID) else { throw GatewayError(.refused, "leader_id is not a player id") }
            try await call { try await self.context.directory.home(of: player, region: homeRegion).acceptInvitation(from: leader) }
            outbox.send(partyStatus(id, leader: leader))
        case .partyLeave:
            try await call { try await self.context.directory.home(of: player, region: homeRegion).leaveParty() }
            outbox.send(partyStatus(id, leader: nil))
        case .hello, .devLogin, .passwordLogin, .deviceLogin, .platformLogin, .refresh, .resume, .logout, .ping, .locate, .getCatalog, .inputs, .ack:
            break  // handled before
        }
    }

    // MARK: Moving home

    /// The directory says the player's home moved (a transfer, the player's own or an operator's):
    /// the connection follows it without a new login. A player in a match or a queue cannot be
    /// moved; should it be anyway, or the new home not answer, the connection closes with
    /// HOME_MOVED and the client resumes with its token.
    private func homeMoved(to region: String, epoch: Int64) async {
        guard let current = homeRegion, current != region else { return }
        guard ticket == nil, match == nil, await rehome(to: region) else {
            close(GatewayError(.homeMoved, "your home region moved to \(region); resume with the same token"))
            return
        }
        outbox.send(homeChanged(0, region: region, epoch: epoch))
    }

    /// Routes this connection to the player's home in `region`: the new home tells this gateway
    /// of session changes from now on. True when done (or done already).
    private func rehome(to region: String) async -> Bool {
        guard let player, let current = homeRegion else { return false }
        guard current != region else { return true }
        let listener = context.sessionChanges.listener.id
        do {
            _ = try await call { try await self.context.directory.home(of: player, region: region).watchSession(listener: listener) }
        } catch {
            context.logger.info("could not follow the player's new home", metadata: ["meridian.player": "\(player)", "meridian.error": "\(error)"])
            return false
        }
        guard homeRegion == current else { return homeRegion == region }  // moved meanwhile (a concurrent re-route)
        homeRegion = region
        context.sessionChanges.rehomed(player, session: self, to: region)
        return true
    }

    private func homeChanged(_ id: UInt64, region: String, epoch: Int64) -> Meridian_Client_V1_ServerMessage {
        var message = Meridian_Client_V1_ServerMessage()
        message.requestID = id
        message.homeChanged.homeRegion = region
        message.homeChanged.epoch = UInt64(max(0, epoch))
        return message
    }

    // MARK: Login and session

    /// Counts a login attempt against the source address's limits (and, for a login that may
    /// create an account, its registrations); too many closes the connection with RATE_LIMITED.
    private func admitLogin(mayCreate: Bool) throws(GatewayError) {
        let (source, now) = (self.source, context.system.clock.now)
        let refusal = context.admission.withLock { admission in
            admission.login(from: source, now: now) ?? (mayCreate ? admission.mayRegister(from: source, now: now) : nil)
        }
        if let refusal { throw refusal }
    }

    /// Logs in at the identity authority; a new account's home is this gateway's region.
    private func logIn(_ request: Meridian_Identity_V1_LoginRequest, requestID: UInt64) async throws(GatewayError) {
        var request = request
        request.gatewayRegion = context.region
        request.source = source
        let grant: LoginGrant
        do { grant = try await context.identity.login(request) } catch { throw GatewayError(error) }
        try await granted(grant, requestID: requestID)
    }

    private func granted(_ grant: LoginGrant, requestID: UInt64) async throws(GatewayError) {
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
    private func loggedIn(
        player: UUID, homeRegion: String, login: UUID, displayName: String, grant: LoginGrant?, token: (String, UInt64), requestID: UInt64
    ) async throws(GatewayError) {
        // A renewal must prove the same player before anything is done for the one it names.
        if let current = link.withLock({ $0.state.player }), current != player {
            throw GatewayError(.refused, "this connection is logged in as another player; open a new connection")
        }
        // The home tells this gateway when the session changes (the queue is matched or ends).
        let listener = context.sessionChanges.listener.id
        let session = try await call { try await self.context.directory.home(of: player, region: homeRegion).watchSession(listener: listener) }
        self.player = player
        self.homeRegion = homeRegion
        self.displayName = displayName
        self.login = login
        let close = self.close
        let outbox = self.outbox
        context.sessionChanges.register(player, session: self, connection: .init(
            token: ObjectIdentifier(self), login: login, homeRegion: homeRegion,
            changed: { [weak self] in Task { await self?.sessionChanged() } },
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
            followQueue(player: player, homeRegion: homeRegion)
        case .idle:
            break
        }
    }

    private func enqueue(_ queue: Meridian_Client_V1_Queue, id: UInt64, player: UUID, homeRegion: String) async throws(GatewayError) {
        guard match == nil else { throw GatewayError(.refused, "already in a match; finish or leave it first") }
        if let lastCancel {
            let wait = context.system.clock.now.duration(to: lastCancel.advanced(by: context.configuration.queueCooldown))
            guard wait <= .zero else {
                throw GatewayError(.refused, "you cancelled a moment ago; queue again in \(max(1, Int((wait / .milliseconds(1)).rounded(.up)))) ms")
            }
        }
        let region = queue.region.isEmpty ? context.region : queue.region
        guard context.topology.region(named: region) != nil else { throw GatewayError(.refused, "no region \(region) in the topology") }
        guard queue.party.count < 16 else { throw GatewayError(.refused, "a party has at most 16 members") }
        var members = [QueueTicket.Member(player: player, homeRegion: homeRegion)]
        for (index, text) in queue.party.enumerated() {
            // Where a member lives is the directory's word, never the client's; an unknown id is refused.
            guard let member = UUID(uuidString: text), member != player, !members.contains(where: { $0.player == member }),
                  let entry = try? await context.identity.entry(of: member), entry.state == .active
            else { throw GatewayError(.refused, "party member \(index + 1) is not a player who can play") }
            // Consent is checked by each member's actor when the matchmaker takes the ticket.
            members.append(.init(player: member, homeRegion: entry.homeRegion))
        }
        let queueTicket = QueueTicket(
            id: UUID(), members: members,
            rttMilliseconds: queue.rttMs.mapValues { Int(min($0, 60_000)) }.filter { context.topology.region(named: $0.key) != nil }
        )
        let reason: String
        do {
            reason = try await call { try await self.context.game.withMatchmaker(of: region) { try await $0.enqueue(queueTicket) } }
        } catch where error.code == .refused && members.count > 1 {
            // Which member refused, and why (offline, busy, never accepted), is theirs to know.
            throw GatewayError(.refused, "your party cannot queue now: every member must have accepted your invitation, be online and be free to play")
        }
        ticket = (queueTicket.id, region)
        var reply = queueStatus(id, queued: true, reason: reason)
        reply.queueStatus.ticketID = queueTicket.id.uuidString.lowercased()
        outbox.send(reply)
        followQueue(player: player, homeRegion: homeRegion)
    }

    /// Follows the player's session while queued — now, whenever the home says it changed, and
    /// every ``GatewayConfiguration/sessionPollInterval`` in case a hint was lost — and when the
    /// matchmaker seats the player, subscribes to the match.
    private func followQueue(player: UUID, homeRegion: String) {
        poller?.cancel()
        let interval = context.configuration.sessionPollInterval
        let clock = context.system.clock
        poller = Task {
            while !Task.isCancelled {
                let next = clock.now.advanced(by: interval)
                if await self.checkQueue(player: player, homeRegion: homeRegion) { return }
                try? await clock.sleep(until: next)
            }
        }
    }

    /// The player's home says the session changed.
    private func sessionChanged() async {
        guard let player, let homeRegion else { return }
        guard ticket != nil else {
            // Idle here: the player's party leader may have queued it.
            guard match == nil, let session = try? await context.directory.home(of: player, region: homeRegion).currentSession(),
                  ticket == nil, match == nil
            else { return }
            switch session {
            case .queued(let queued, let region):
                ticket = (queued.id, region)
                var push = queueStatus(0, queued: true, reason: "queued by your party's leader")
                push.queueStatus.ticketID = queued.id.uuidString.lowercased()
                outbox.send(push)
                followQueue(player: player, homeRegion: homeRegion)
            case .inMatch(let assignment):
                await enter(assignment, player: player, resumed: false)
            case .idle:
                break
            }
            return
        }
        if await checkQueue(player: player, homeRegion: homeRegion) { poller?.cancel() }
    }

    /// Reads the session of a queued player; true once the queue is over (seated or ended).
    private func checkQueue(player: UUID, homeRegion: String) async -> Bool {
        guard let ticketID = ticket?.id else { return true }
        guard let session = try? await context.directory.home(of: player, region: homeRegion).currentSession() else { return false }
        guard ticket?.id == ticketID else { return ticket == nil }  // the client queued again meanwhile
        switch session {
        case .queued:
            return false
        case .inMatch(let assignment):
            await enter(assignment, player: player, resumed: false)
            return true
        case .idle:
            queueEnded()
            return true
        }
    }

    private func queueEnded() {
        guard ticket != nil else { return }
        ticket = nil
        outbox.send(queueStatus(0, queued: false, reason: "the ticket left the queue"))
    }

    private func enter(_ assignment: MatchAssignment, player: UUID, resumed: Bool) async {
        guard match?.matchID != assignment.matchID else { return }  // entered already (a hint and a check crossed)
        ticket = nil
        match = assignment
        var event = Meridian_Client_V1_ServerMessage()
        event.matchEvent.matchID = assignment.matchID.uuidString.lowercased()
        event.matchEvent.phase = "assigned"
        event.matchEvent.node = assignment.node
        event.matchEvent.region = assignment.region
        outbox.send(event)
        do {
            let matchActor = try context.game.match(assignment)
            let client = MatchFeedRouter.Player(outbox: outbox) { [weak self] matchID, delivered in
                Task { await self?.matchFinished(matchID, resultDelivered: delivered) }
            }
            let uplink = try await context.router.attach(player: player, to: matchActor, assignment: assignment, client: client)
            if match?.matchID == assignment.matchID { link.withLock { $0.uplink = (uplink, player) } }
            if resumed { try? await matchActor.reconnect(player: player) }
            watchHome(while: assignment.matchID, player: player)
        } catch {
            // Not seated there (any more) or unreachable: the match will not talk to this
            // client. Its home still records the player's outcome of that match; follow it.
            context.logger.info("could not follow the player's match; waiting for its outcome at the player's home", metadata: [
                "meridian.match": "\(assignment.matchID)", "meridian.error": "\(error)",
            ])
            context.router.detach(player: player, matchID: assignment.matchID)
            matchFinished(assignment.matchID, resultDelivered: false)
        }
    }

    private func watchHome(while matchID: UUID, player: UUID) {
        matchWatch?.cancel()
        guard let homeRegion else { return }
        let clock = context.system.clock
        let first = clock.now.advanced(by: Self.matchWatchInterval)
        matchWatch = Task {
            var next = first
            while !Task.isCancelled {
                try? await clock.sleep(until: next)
                next = max(next.advanced(by: Self.matchWatchInterval), clock.now)
                guard !Task.isCancelled, let home = try? self.context.directory.home(of: player, region: homeRegion),
                      let session = try? await home.currentSession()
                else { continue }
                if case .inMatch(let current) = session, current.matchID == matchID { continue }
                self.matchFinished(matchID, resultDelivered: false)
                return
            }
        }
    }

    /// The player's match is over here. Once the home applied the outcome (the player is no
    /// longer in that match there), push the new profile — and the result itself, from the
    /// home's history, when the match's own result never reached this gateway.
    private func matchFinished(_ matchID: UUID, resultDelivered: Bool) {
        guard match?.matchID == matchID, let player else { return }
        context.router.detach(player: player, matchID: matchID)
        match = nil
        matchWatch?.cancel()
        guard let homeRegion else { return }
        let clock = context.system.clock
        Task {
            guard let home = try? self.context.directory.home(of: player, region: homeRegion) else { return }
            // The home applies the outcome shortly after the match ends; wait for it up to 30 s.
            let deadline = clock.now.advanced(by: .seconds(30))
            var next = clock.now
            while next < deadline {
                guard case .inMatch(let current)? = try? await home.currentSession(), current.matchID == matchID else { break }
                next = next.advanced(by: .milliseconds(100))
                try? await clock.sleep(until: next)
            }
            if !resultDelivered {
                var message = Meridian_Client_V1_ServerMessage()
                message.result.matchID = matchID.uuidString.lowercased()
                if let entry = try? await home.recentMatches(limit: 20).first(where: { $0.matchID == matchID }) {
                    message.result.outcome = entry.outcome
                    message.result.xp = entry.xp
                } else {
                    message.result.outcome = "abandoned"  // no outcome recorded: nothing was paid
                }
                self.outbox.send(message)
            }
            if let view = try? await home.view() { self.outbox.send(Self.profile(view, requestID: 0)) }
        }
    }

    /// The connection is gone: a queued ticket is cancelled; a seat in a running match is held
    /// (disconnect) so the player can resume with their token.
    func connectionClosed() async {
        poller?.cancel()
        matchWatch?.cancel()
        let replaced = link.withLock { link in
            link.uplink = nil
            return link.state.wasReplaced
        }
        guard let player else { return }
        // Replaced by a newer login: leave the player's queue, seat and feed to that connection.
        guard !replaced else {
            context.sessionChanges.unregister(player, session: self)
            return
        }
        if context.sessionChanges.unregister(player, session: self), let homeRegion {
            // The home stops telling this node, and may let the player's actor go once idle.
            let listener = context.sessionChanges.listener.id
            try? await context.directory.home(of: player, region: homeRegion).unwatchSession(listener: listener)
        }
        if let ticket {
            let cancelled = (try? await context.game.withMatchmaker(of: ticket.region) { try await $0.cancel(ticketID: ticket.id) }) ?? false
            if !cancelled, let homeRegion { await endQueueAtHome(ticket.id, player: player, homeRegion: homeRegion) }
        }
        if let match {
            try? await context.game.match(match).disconnect(player: player)
            context.router.detach(player: player, matchID: match.matchID)
        }
    }

    /// The region's matchmaker did not hold the ticket (it moved with a lost node and has not
    /// heard of it again yet, or just matched it): end it at the player's home, which owns it —
    /// otherwise the home would queue it again at the new matchmaker. A ticket already matched
    /// is left alone (the home is in the match then, and refuses).
    private func endQueueAtHome(_ ticketID: UUID, player: UUID, homeRegion: String) async {
        guard let home = try? context.directory.home(of: player, region: homeRegion) else { return }
        _ = try? await ClusterSystem.withCallTimeout(context.configuration.callTimeout) { @Sendable in
            try await home.endQueue(ticketID: ticketID)
        }
    }

    // MARK: Replies

    private func call<T: Sendable>(_ body: @Sendable () async throws -> T) async throws(GatewayError) -> T {
        do {
            return try await ClusterSystem.withCallTimeout(context.configuration.callTimeout, operation: body)
        } catch let error as PlayerSessionError {
            throw GatewayError(.refused, error.message)
        } catch let error as ClusterError where error.code == .remoteError {
            throw GatewayError(.refused, error.message)
        } catch {
            throw GatewayError(.unavailable, "\(error)")
        }
    }

    private nonisolated func locate(_ id: UInt64) -> Meridian_Client_V1_ServerMessage {
        var reply = Meridian_Client_V1_ServerMessage()
        reply.requestID = id
        reply.regions.regions = context.topology.regions.map { region in
            var gateways = Meridian_Client_V1_RegionGateways()
            gateways.region = region.name
            gateways.gateways = context.topology.nodes(in: region.name).map(\.gateway.description)
            return gateways
        }
        return reply
    }

    private static func platformCredentials(_ login: Meridian_Client_V1_PlatformLogin) -> Meridian_Identity_V1_PlatformCredentials {
        var credentials = Meridian_Identity_V1_PlatformCredentials()
        credentials.platform = login.platform
        credentials.ticket = login.ticket
        credentials.displayName = login.displayName
        return credentials
    }

    private static func loginMethods(_ details: Meridian_Identity_V1_AccountDetails, requestID: UInt64) -> Meridian_Client_V1_ServerMessage {
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

    private func partyStatus(_ id: UInt64, leader: UUID?) -> Meridian_Client_V1_ServerMessage {
        var reply = Meridian_Client_V1_ServerMessage()
        reply.requestID = id
        reply.party.leaderID = leader?.uuidString.lowercased() ?? ""
        return reply
    }

    private func queueStatus(_ id: UInt64, queued: Bool, reason: String) -> Meridian_Client_V1_ServerMessage {
        var reply = Meridian_Client_V1_ServerMessage()
        reply.requestID = id
        reply.queueStatus.queued = queued
        reply.queueStatus.reason = reason
        if let ticket {
            reply.queueStatus.ticketID = ticket.id.uuidString.lowercased()
            reply.queueStatus.region = ticket.region
        }
        return reply
    }

    private nonisolated func catalogView(_ id: UInt64) -> Meridian_Client_V1_ServerMessage {
        var reply = Meridian_Client_V1_ServerMessage()
        reply.requestID = id
        if let snapshot = context.catalog?.current {
            reply.catalog.version = snapshot.version
            reply.catalog.items = snapshot.content.items.map { item in
                var view = Meridian_Client_V1_CatalogItem()
                view.id = item.id
                view.name = item.name
                view.category = "\(item.category)"
                return view
            }
        }
        return reply
    }

    static func profile(_ view: PlayerView, requestID: UInt64) -> Meridian_Client_V1_ServerMessage {
        var reply = Meridian_Client_V1_ServerMessage()
        reply.requestID = requestID
        reply.profile.playerID = view.id.uuidString.lowercased()
        reply.profile.displayName = view.displayName
        reply.profile.homeRegion = view.homeRegion
        reply.profile.level = view.level
        reply.profile.xp = view.xp
        reply.profile.rating = view.skill.rating
        reply.profile.balances = view.balances
        reply.profile.ledgerSequence = view.ledgerSequence
        return reply
    }

    static func sessionState(_ session: PlayerSession) -> Meridian_Client_V1_SessionState {
        var state = Meridian_Client_V1_SessionState()
        switch session {
        case .idle:
            state.state = "idle"
        case .queued(_, let region):
            state.state = "queued"
            state.region = region
        case .inMatch(let match):
            state.state = "in_match"
            state.matchID = match.matchID.uuidString.lowercased()
            state.region = match.region
        }
        return state
    }
}
