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
import NIOCore
import SwiftProtobuf
import Synchronization

/// One client connection's protocol state: Hello, then a login, then requests. It routes the
/// client's calls to the player's actor in its home region and to the player's match wherever
/// it runs, and follows the player's session (queued → matched) to subscribe to the match.
actor ClientSession {
    /// What the connection's reader reads and changes without waiting for the actor: the
    /// connection's protocol state (a pure state machine), and the uplink to the player's match
    /// (inputs and acks go straight to it).
    struct Link {
        var state = ClientConnectionState()
        var uplink: (MatchUplink, player: UUID)?
        /// The gateway is leaving and told the client where to resume (``GatewayServer/drain(timeout:)``):
        /// the connection's end is a move, not a departure — the player keeps its queue ticket
        /// and its seat, which the client takes up at the other gateway.
        var handedOver = false
    }

    let context: GatewayContext
    let outbox: ClientOutbox
    /// The client's address, for the identity layer's attempt limits.
    let source: String
    /// Sends an error to the client and closes the connection (a ban, a newer login, a logout).
    let close: @Sendable (GatewayError) -> Void
    nonisolated let link = Mutex(Link())
    /// Every message the client sends takes a token (``GatewayConfiguration/messagesPerSecond``),
    /// on the reader or on the event loop (``takeOnEventLoop(_:)``).
    nonisolated let messageLimit: Mutex<TokenBucket<ContinuousClock.Instant>>
    var player: UUID?
    var homeRegion: String?
    var displayName = ""
    /// The login (access tokens' `session`) this connection authenticated with.
    var login: UUID?
    var ticket: (id: UUID, region: String)?
    var match: MatchAssignment? {
        didSet {
            // The uplink belongs to the match's feed; it is set once the feed attached the player.
            if oldValue?.matchID != match?.matchID { link.withLock { $0.uplink = nil } }
        }
    }
    /// When the client last cancelled its queue: it may queue again only after ``GatewayConfiguration/queueCooldown``.
    var lastCancel: AnyClock.Instant?
    /// The player's session as its home last pushed it (``sessionPushed(_:version:)``), or
    /// answered when this connection started watching it.
    var homeSession: WatchedSession?
    /// A queue request is on its way: a push of its ticket must not be taken for a party leader's.
    var enqueueing = false
    /// A match that finished here whose outcome the home has not applied yet (its push says so).
    var finishing: (matchID: UUID, resultDelivered: Bool)?

    init(context: GatewayContext, outbox: ClientOutbox, source: String, close: @escaping @Sendable (GatewayError) -> Void) {
        self.context = context
        self.outbox = outbox
        self.source = source
        self.close = close
        self.messageLimit = Mutex(TokenBucket(
            rate: context.configuration.messagesPerSecond, burst: context.configuration.messageBurst, now: .now
        ))
    }

    static var loginFirst: GatewayError { ClientConnectionState.loginFirst }

    nonisolated var isLoggedIn: Bool { link.withLock { $0.state.isLoggedIn } }

    /// Serves what needs nothing from the cluster — Hello, Ping, Locate, GetCatalog — and hands
    /// inputs and acks to the match's uplink, right on the connection's reader (no hop to the
    /// actor on the hot path). Returns false for the rest, which ``handle(_:)`` serves.
    nonisolated func answerDirectly(_ message: Meridian_Client_V1_ClientMessage) throws(GatewayError) -> Bool {
        let id = message.requestID
        guard let body = message.body else { throw GatewayError(.malformed, "a message without a body") }
        let kind = ClientFrames.kind(of: body)
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
            let inputs = try ClientFrames.inputs(batch, limit: context.configuration.maxInputsPerBatch)
            guard let (uplink, player) = uplink else { return true }  // between matches: inputs are dropped
            if let last = batch.inputs.last { outbox.noteInput(sequence: last.sequence) }
            uplink.offer(player: player, inputs: inputs, ack: batch.ackTick == 0 ? nil : batch.ackTick)
        case .ack(let ack):
            if let (uplink, player) = uplink { uplink.offer(player: player, ack: ack.tick) }
        default:
            return false
        }
        return true
    }

    /// A playing client's inputs and acks, taken on the connection's event loop as they are read
    /// (``ClientInputHandler``): no hop to the reader's task per input. True when `frame` was one
    /// and went to the match's uplink. Anything else — another message, or one this path does
    /// not vouch for (over the rate, malformed, refused by the connection's state, a client
    /// that does not read) — is left to the reader, which answers it as always.
    nonisolated func takeOnEventLoop(_ frame: ByteBuffer) -> Bool {
        guard link.withLock({ $0.uplink != nil }), !outbox.isOverflowing,
              let message = try? ClientFrames.message(frame)
        else { return false }
        switch message.body {
        case .inputs?, .ack?: break
        default: return false
        }
        guard messageLimit.withLock({ $0.take(now: .now) }) else { return false }
        do {
            return try answerDirectly(message)
        } catch {
            return false
        }
    }

    /// Serves what goes to the cluster: logins, queueing, the profile, leaving a match. A thrown
    /// error is sent to the client; if it closes the connection the caller stops reading.
    func handle(_ message: Meridian_Client_V1_ClientMessage) async throws(GatewayError) {
        let id = message.requestID
        guard let body = message.body else { throw GatewayError(.malformed, "a message without a body") }
        switch ClientFrames.kind(of: body) {
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

    /// A request of a logged-in connection.
    func serve(_ body: Meridian_Client_V1_ClientMessage.OneOf_Body, id: UInt64) async throws(GatewayError) {
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

    func handleLoggedIn(_ body: Meridian_Client_V1_ClientMessage.OneOf_Body, id: UInt64, player: UUID, homeRegion: String) async throws(GatewayError) {
        switch body {
        case .queue(let queue):
            try await enqueue(queue, id: id, player: player, homeRegion: homeRegion)
        case .cancelQueue:
            if let ticket {
                let cancelled = try await call { try await self.context.game.withMatchmaker(of: ticket.region) { try await $0.cancel(ticketID: ticket.id) } }
                if !cancelled { await endQueueAtHome(ticket.id, player: player, homeRegion: homeRegion) }
            }
            ticket = nil
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
            try await linkMethod(link, id: id, player: player)
        case .unlinkMethod(let unlink):
            try await unlinkMethod(unlink, id: id, player: player)
        case .moveHome(let move):
            try await moveHome(move, id: id, player: player)
        case .partyInvite(let invite):
            try await inviteIntoParty(invite, id: id, player: player)
        case .partyAccept(let accept):
            try await acceptInvitation(accept, id: id, player: player, homeRegion: homeRegion)
        case .partyLeave:
            try await leaveParty(id: id, player: player, homeRegion: homeRegion)
        case .hello, .devLogin, .passwordLogin, .deviceLogin, .platformLogin, .refresh, .resume, .logout, .ping, .locate, .getCatalog, .inputs, .ack:
            break  // handled before
        }
    }

    /// The connection is gone: a queued ticket is cancelled; a seat in a running match is held
    /// (disconnect) so the player can resume with their token.
    func connectionClosed() async {
        let (replaced, handedOver) = link.withLock { link in
            link.uplink = nil
            return (link.state.wasReplaced, link.handedOver)
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
        if handedOver {
            // The client resumes elsewhere: this gateway only stops serving it.
            if let match { context.router.detach(player: player, matchID: match.matchID) }
            return
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

    // MARK: Replies

    func call<T: Sendable>(_ body: @Sendable () async throws -> T) async throws(GatewayError) -> T {
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

    nonisolated func locate(_ id: UInt64) -> Meridian_Client_V1_ServerMessage {
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

    func queueStatus(_ id: UInt64, queued: Bool, reason: String) -> Meridian_Client_V1_ServerMessage {
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

    nonisolated func catalogView(_ id: UInt64) -> Meridian_Client_V1_ServerMessage {
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
