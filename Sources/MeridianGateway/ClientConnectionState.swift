import Foundation

/// A client connection's protocol state as a pure state machine, in the shape of the transport's
/// `Handshake` and the match's `MatchLifecycle`:
///
/// ```
/// awaitingHello ─hello→ awaitingLogin ─login→ authenticating ─succeeded→ ready(player)
///                             ↑                      │                      │ refresh/resume of
///                             └──────failed──────────┘                      │ the same player
///                                                                           ↓
///                 any stage ─close(reason)→ closing (a newer login, a ban, a logout, bad input)
/// ```
///
/// It does no I/O and keeps no clock: ``ClientSession`` feeds it what the client sent and what
/// the identity layer answered, and carries out the answer — a reply, a refusal (an error to
/// the client, closing the connection when ``GatewayError/closesConnection``), or the go-ahead.
/// A connection is logged in only once its login fully succeeded: until ``loginSucceeded(player:)``
/// nothing but Ping and Locate is served, and a second login on the connection waits for none.
package struct ClientConnectionState: Sendable, Hashable {
    package enum Stage: Sendable, Hashable {
        case awaitingHello
        case awaitingLogin
        /// A login is with the identity layer.
        case authenticating
        case ready(player: UUID)
        /// Refreshing the logged-in player's tokens (Refresh or Resume on a ready connection).
        case reauthenticating(player: UUID)
        case closing(GatewayError.Code)
    }

    /// What the client sent, as far as the connection's state is concerned.
    package enum Message: Sendable, Hashable {
        case hello(version: UInt32)
        /// Ping and Locate: served at any stage after Hello.
        case anytime
        /// A login that names its credentials (password, device, platform, dev).
        case login
        /// Refresh or Resume: a login, or on a ready connection the same player's new tokens.
        case renewal
        /// Everything else: needs a logged-in connection.
        case request
    }

    /// What the session does with a message.
    package enum Admission: Sendable, Hashable {
        /// Answer Hello with Welcome.
        case welcome
        /// Serve it (a login: start it; ``loginSucceeded(player:)`` or ``loginFailed()`` follows).
        case serve
    }

    package private(set) var stage = Stage.awaitingHello
    /// The client asked to log out: the revocation this causes closes the connection only after the reply.
    package private(set) var loggingOut = false

    package init() {}

    package static var loginFirst: GatewayError { GatewayError(.notLoggedIn, "log in first (PasswordLogin, DeviceLogin, PlatformLogin, Refresh or Resume)") }

    package var isLoggedIn: Bool {
        switch stage {
        case .ready, .reauthenticating: true
        default: false
        }
    }

    /// The logged-in player, if any.
    package var player: UUID? {
        switch stage {
        case .ready(let player), .reauthenticating(let player): player
        default: nil
        }
    }

    /// Decides what to do with `message`; a refusal is thrown and leaves the state as it was.
    package mutating func receive(_ message: Message, protocolVersion: UInt32) throws(GatewayError) -> Admission {
        switch (stage, message) {
        case (.closing, _):
            throw GatewayError(.refused, "the connection is closing")
        case (.awaitingHello, .hello(let version)):
            guard version == protocolVersion else {
                throw GatewayError(.unsupportedVersion, "protocol version \(version) is not supported; this gateway speaks \(protocolVersion)")
            }
            stage = .awaitingLogin
            return .welcome
        case (.awaitingHello, _):
            throw GatewayError(.malformed, "the first message must be Hello")
        case (_, .hello):
            throw GatewayError(.malformed, "Hello was already sent")
        case (_, .anytime):
            return .serve
        case (.awaitingLogin, .login), (.awaitingLogin, .renewal):
            stage = .authenticating
            return .serve
        case (.authenticating, .login), (.authenticating, .renewal), (.reauthenticating, .renewal), (.reauthenticating, .login):
            throw GatewayError(.refused, "this connection is logging in already")
        case (.ready, .login):
            throw GatewayError(.refused, "this connection is logged in already; open a new connection to log in as someone else")
        case (.ready(let player), .renewal):
            stage = .reauthenticating(player: player)
            return .serve
        case (.ready, .request), (.reauthenticating, .request):
            return .serve
        case (.awaitingLogin, .request), (.authenticating, .request):
            throw Self.loginFirst
        }
    }

    /// The login (or renewal) proved `player`; the connection is logged in from now on.
    package mutating func loginSucceeded(player: UUID) throws(GatewayError) {
        switch stage {
        case .authenticating:
            stage = .ready(player: player)
        case .reauthenticating(let current):
            guard current == player else {
                stage = .ready(player: current)
                throw GatewayError(.refused, "this connection is logged in as another player; open a new connection")
            }
            stage = .ready(player: player)
        default:
            throw GatewayError(.refused, "no login is under way on this connection")
        }
    }

    /// The login (or renewal) was refused or failed half-way: the connection is as before it.
    package mutating func loginFailed() {
        switch stage {
        case .authenticating: stage = .awaitingLogin
        case .reauthenticating(let player): stage = .ready(player: player)
        default: break
        }
    }

    /// The client asked to log out (logged in only).
    package mutating func logoutStarted() throws(GatewayError) {
        guard isLoggedIn else { throw Self.loginFirst }
        loggingOut = true
    }

    package mutating func logoutFailed() { loggingOut = false }

    /// The connection is to close with `error`; returns false when it should not close now: the
    /// revocation of the client's own logout, whose reply still has to go out first.
    package mutating func close(_ error: GatewayError) -> Bool {
        if error.code == .loggedOut, loggingOut { return false }
        // A replacement is remembered over any earlier reason: the new connection owns the seat.
        if case .closing = stage, error.code != .sessionReplaced { return true }
        stage = .closing(error.code)
        return true
    }

    /// A newer login of the player took over: the seat, queue and feed are that connection's.
    package var wasReplaced: Bool { stage == .closing(.sessionReplaced) }
}
