import Foundation
import MeridianSimulation
import MeridianWire
import NIOCore
import Synchronization

extension GameClient {
    /// Sends `hello`; the first message of every connection. Applies the simulated delay of the
    /// gateway's region from here on when a ``LatencyProfile`` is set.
    @discardableResult
    public func hello() async throws(MeridianClientError) -> Welcome {
        var hello = Meridian_Client_V1_Hello()
        hello.protocolVersion = Self.protocolVersion
        hello.client = configuration.clientName
        guard case .welcome(let proto)? = try await request(.hello(hello)) else {
            throw MeridianClientError(.malformed, "the gateway did not answer hello with welcome; is this a Meridian gateway?")
        }
        let welcome = Welcome(proto: proto)
        let connection = state.withLock { state -> MeridianClientConnection? in
            let known = state.gatewayRegion
            state.gatewayRegion = welcome.region
            return known == nil ? state.connection : nil
        }
        if let connection, let profile = configuration.latencyProfile {
            connection.setSimulatedOneWayDelay(profile.delay(to: welcome.region))
        }
        return welcome
    }

    /// Development login (clusters whose topology says `dev_login: true`): logs in as
    /// `playerID`, creating the account in the gateway's region on first use.
    @discardableResult
    public func devLogin(playerID: String, displayName: String) async throws(MeridianClientError) -> LoginResult {
        var login = Meridian_Client_V1_DevLogin()
        login.playerID = playerID
        login.displayName = displayName
        return try await logIn(.devLogin(login), name: "dev_login")
    }

    /// Logs in with a username and password; with `create`, registers the account first (its
    /// home is the gateway's region). A wrong password fails with ``MeridianClientError/ServerCode/loginFailed``.
    @discardableResult
    public func passwordLogin(username: String, password: String, create: Bool = false, displayName: String = "") async throws(MeridianClientError) -> LoginResult {
        var login = Meridian_Client_V1_PasswordLogin()
        login.username = username
        login.password = password
        login.create = create
        login.displayName = displayName
        return try await logIn(.passwordLogin(login), name: "password_login")
    }

    /// Logs in as this device's guest account, creating it on first use. Keep `secret` (16–128
    /// random bytes) with the device: it is the account's only credential until another is linked.
    @discardableResult
    public func deviceLogin(deviceID: String, secret: [UInt8], displayName: String = "") async throws(MeridianClientError) -> LoginResult {
        var login = Meridian_Client_V1_DeviceLogin()
        login.deviceID = deviceID
        login.deviceSecret = Data(secret)
        login.displayName = displayName
        return try await logIn(.deviceLogin(login), name: "device_login")
    }

    /// Logs in with a platform's ticket (e.g. an OIDC ID token), creating the account on the
    /// platform identity's first login.
    @discardableResult
    public func platformLogin(platform: String, ticket: String, displayName: String = "") async throws(MeridianClientError) -> LoginResult {
        try await logIn(.platformLogin(Self.platformLogin(platform: platform, ticket: ticket, displayName: displayName)), name: "platform_login")
    }

    /// A login method to link to the logged-in account (``link(_:)``).
    public enum LinkableMethod: Sendable {
        case password(username: String, password: String)
        case device(deviceID: String, secret: [UInt8])
        case platform(platform: String, ticket: String)
    }

    /// Links another login method to the logged-in account (a guest keeps its progress when it
    /// adds a password or a platform) and returns the account's methods as `kind` or
    /// `kind:username`. A method linked to any account already is refused (`alreadyExists`).
    @discardableResult
    public func link(_ method: LinkableMethod) async throws(MeridianClientError) -> [String] {
        var link = Meridian_Client_V1_LinkMethod()
        switch method {
        case .password(let username, let password):
            link.password.username = username
            link.password.password = password
        case .device(let deviceID, let secret):
            link.device.deviceID = deviceID
            link.device.deviceSecret = Data(secret)
        case .platform(let platform, let ticket):
            link.platform = Self.platformLogin(platform: platform, ticket: ticket, displayName: "")
        }
        let reply = try await request(.linkMethod(link))
        guard case .methods(let methods)? = reply else { throw Self.unexpected(reply, for: "link_method") }
        return Self.describe(methods)
    }

    /// Unlinks the account's method of `kind` (`password`, `device`, `platform`; `subject`: the
    /// username where it has several). The last method cannot be unlinked.
    @discardableResult
    public func unlink(kind: String, subject: String = "") async throws(MeridianClientError) -> [String] {
        var unlink = Meridian_Client_V1_UnlinkMethod()
        unlink.kind = kind
        unlink.subject = subject
        let reply = try await request(.unlinkMethod(unlink))
        guard case .methods(let methods)? = reply else { throw Self.unexpected(reply, for: "unlink_method") }
        return Self.describe(methods)
    }

    private static func platformLogin(platform: String, ticket: String, displayName: String) -> Meridian_Client_V1_PlatformLogin {
        var login = Meridian_Client_V1_PlatformLogin()
        login.platform = platform
        login.ticket = ticket
        login.displayName = displayName
        return login
    }

    private static func describe(_ methods: Meridian_Client_V1_LoginMethods) -> [String] {
        methods.methods.map { $0.subject.isEmpty ? $0.kind : "\($0.kind):\($0.subject)" }
    }

    /// Trades the refresh token of the last login for a new access and refresh token (and logs
    /// this connection in). A spent refresh token ends the login everywhere.
    @discardableResult
    public func refresh(refreshToken: String) async throws(MeridianClientError) -> LoginResult {
        var refresh = Meridian_Client_V1_Refresh()
        refresh.refreshToken = refreshToken
        return try await logIn(.refresh(refresh), name: "refresh")
    }

    /// Ends this login everywhere; the gateway then closes the connection.
    public func logout() async throws(MeridianClientError) {
        let reply = try await request(.logout(Meridian_Client_V1_Logout()))
        guard case .loggedOut? = reply else { throw Self.unexpected(reply, for: "logout") }
    }

    /// Logs in with a token of an earlier login. Throws ``MeridianClientError/ServerCode/badToken``
    /// (as ``MeridianClientError/serverCode``) when the token is no longer valid.
    @discardableResult
    public func resume(token: String) async throws(MeridianClientError) -> LoginResult {
        var resume = Meridian_Client_V1_Resume()
        resume.token = token
        return try await logIn(.resume(resume), name: "resume")
    }

    private func logIn(_ body: ClientMessage.OneOf_Body, name: String) async throws(MeridianClientError) -> LoginResult {
        let reply = try await request(body)
        guard case .login(let proto)? = reply else { throw Self.unexpected(reply, for: name) }
        let result = LoginResult(proto: proto)
        state.withLock { state in
            state.login = result
            if !result.refreshToken.isEmpty { state.refreshToken = result.refreshToken }
            // After a resume the match restarts from a full snapshot: forget the old baselines.
            state.forgetSnapshots()
            state.inputLatency.reset()
        }
        return result
    }

    /// Measures one round trip to the gateway (including any simulated delay).
    public func ping() async throws(MeridianClientError) -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        var ping = Meridian_Client_V1_Ping()
        ping.clientTimeUs = UInt64(NIODeadline.now().uptimeNanoseconds / 1000)
        let reply = try await request(.ping(ping))
        guard case .pong? = reply else { throw Self.unexpected(reply, for: "ping") }
        return clock.now - start
    }

    /// Every region's gateway addresses (`host:port`), by region.
    public func locate() async throws(MeridianClientError) -> [String: [String]] {
        let reply = try await request(.locate(Meridian_Client_V1_Locate()))
        guard case .regions(let proto)? = reply else { throw Self.unexpected(reply, for: "locate") }
        var regions: [String: [String]] = [:]
        for entry in proto.regions { regions[entry.region, default: []].append(contentsOf: entry.gateways) }
        return regions
    }

    /// Moves the player's home (its data) to `region`, e.g. the region it plays in, and returns
    /// the new home region once the transfer is done. Only while idle, at most once per the
    /// cluster's cool-down (a `refused` server error says when again). The connection stays.
    @discardableResult
    public func moveHome(to region: String) async throws(MeridianClientError) -> String {
        var move = Meridian_Client_V1_MoveHome()
        move.region = region
        let reply = try await request(.moveHome(move))
        guard case .homeChanged(let changed)? = reply else { throw Self.unexpected(reply, for: "move_home") }
        return changed.homeRegion
    }

    /// Invites the player `playerID` into this player's party; they get a
    /// ``GameEvent/partyInvitation(_:)`` and join with ``acceptInvitation(from:)``.
    /// - Throws: A `refused` server error when that player cannot be invited now (offline,
    ///   unknown — the gateway does not say which).
    public func invite(_ playerID: String) async throws(MeridianClientError) {
        var invite = Meridian_Client_V1_PartyInvite()
        invite.playerID = playerID
        let reply = try await request(.partyInvite(invite))
        guard case .party? = reply else { throw Self.unexpected(reply, for: "party_invite") }
    }

    /// Joins the party of `leaderID`, who invited this player. Returns the leader's id.
    @discardableResult
    public func acceptInvitation(from leaderID: String) async throws(MeridianClientError) -> String {
        var accept = Meridian_Client_V1_PartyAccept()
        accept.leaderID = leaderID
        let reply = try await request(.partyAccept(accept))
        guard case .party(let status)? = reply else { throw Self.unexpected(reply, for: "party_accept") }
        return status.leaderID
    }

    /// Leaves the party this player joined.
    public func leaveParty() async throws(MeridianClientError) {
        let reply = try await request(.partyLeave(Meridian_Client_V1_PartyLeave()))
        guard case .party? = reply else { throw Self.unexpected(reply, for: "party_leave") }
    }

    /// Queues the player (and `party`, whose members accepted its invitation) for a match.
    ///
    /// - Parameters:
    ///   - rtt: Measured round trip to each region (see ``nearestRegion(from:pings:measure:)``).
    ///   - region: Whose matchmaker; nil for the gateway's region.
    @discardableResult
    public func queue(party: [String] = [], rtt: [String: Duration] = [:], region: String? = nil) async throws(MeridianClientError) -> QueueStatus {
        var queue = Meridian_Client_V1_Queue()
        queue.party = party
        queue.rttMs = rtt.mapValues { UInt32(clamping: $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) }
        queue.region = region ?? ""
        let reply = try await request(.queue(queue))
        guard case .queueStatus(let proto)? = reply else { throw Self.unexpected(reply, for: "queue") }
        return QueueStatus(proto: proto)
    }

    /// Leaves the matchmaking queue.
    @discardableResult
    public func cancelQueue() async throws(MeridianClientError) -> QueueStatus {
        let reply = try await request(.cancelQueue(Meridian_Client_V1_CancelQueue()))
        guard case .queueStatus(let proto)? = reply else { throw Self.unexpected(reply, for: "cancel_queue") }
        return QueueStatus(proto: proto)
    }

    /// Leaves the current match; the gateway confirms with phase `left`.
    @discardableResult
    public func leaveMatch() async throws(MeridianClientError) -> MatchEvent {
        let reply = try await request(.leaveMatch(Meridian_Client_V1_LeaveMatch()))
        guard case .matchEvent(let proto)? = reply else { throw Self.unexpected(reply, for: "leave_match") }
        return MatchEvent(proto: proto)
    }

    /// The player's profile and inventory.
    public func profile() async throws(MeridianClientError) -> Profile {
        let reply = try await request(.getProfile(Meridian_Client_V1_GetProfile()))
        guard case .profile(let proto)? = reply else { throw Self.unexpected(reply, for: "get_profile") }
        return Profile(proto: proto)
    }

    /// The catalog the gateway serves.
    public func catalog() async throws(MeridianClientError) -> CatalogView {
        let reply = try await request(.getCatalog(Meridian_Client_V1_GetCatalog()))
        guard case .catalog(let proto)? = reply else { throw Self.unexpected(reply, for: "get_catalog") }
        return CatalogView(proto: proto)
    }

    /// Sends inputs, in batches of at most ``maxInputsPerBatch``. Each input gets the next
    /// sequence number (its `sequence` is overwritten); the send time of each is stamped for
    /// the input → delta latency. No reply. Returns the last sequence number used.
    @discardableResult
    public func sendInputs(_ inputs: [PlayerInput]) throws(MeridianClientError) -> UInt32 {
        let connection = try currentConnection()
        let now = NIODeadline.now()
        var batches: [Meridian_Client_V1_InputBatch] = []
        let last = state.withLock { state -> UInt32 in
            var batch = Meridian_Client_V1_InputBatch()
            if !inputs.isEmpty, let ack = state.pendingAck {
                batch.ackTick = ack
                state.pendingAck = nil
            }
            for input in inputs {
                var proto = Meridian_Client_V1_PlayerInput()
                proto.sequence = state.nextInputSequence
                proto.moveX = Int32(input.moveX)
                proto.moveY = Int32(input.moveY)
                proto.aim = UInt32(input.aim)
                proto.fire = input.fire
                proto.reload = input.reload
                state.inputLatency.sent(state.nextInputSequence, at: now)
                state.nextInputSequence &+= 1
                batch.inputs.append(proto)
                if batch.inputs.count == Self.maxInputsPerBatch {
                    batches.append(batch)
                    batch = Meridian_Client_V1_InputBatch()
                }
            }
            if !batch.inputs.isEmpty { batches.append(batch) }
            return state.nextInputSequence &- 1
        }
        for batch in batches { connection.send(.inputs(batch)) }
        return last
    }
}
