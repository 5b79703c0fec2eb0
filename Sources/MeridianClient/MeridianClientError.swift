/// An error of the Meridian client library. `code` says what happened; `message` says what to do.
///
/// Errors the gateway sent (`Error{code, message}`) keep the gateway's code in ``serverCode``.
public struct MeridianClientError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The gateway could not be reached (refused, unreachable, connect timeout, bad address).
        case connectFailed
        /// The connection is closed: by the gateway, by the network, or by ``GameClient/close()``.
        case connectionClosed
        /// No reply arrived within the request timeout.
        case timeout
        /// The gateway answered with `Error` (see ``MeridianClientError/serverCode``).
        case server
        /// The gateway sent a frame longer than the client's inbound limit.
        case frameTooLarge
        /// The gateway sent bytes that are not a `ServerMessage`, or an unexpected reply.
        case malformed
        /// The call is not possible in the client's current state (not connected, not logged in…).
        case invalidState
        /// The calling task was cancelled while it waited for the reply.
        case cancelled
    }

    /// The code of an `Error` message the gateway sent, as in `client.proto`.
    public enum ServerCode: String, Sendable, Hashable {
        case unknown, malformed, frameTooLarge, unsupportedVersion, notLoggedIn, badToken
        case rateLimited, refused, unavailable, tooSlow
        case loginFailed, lockedOut, banned, alreadyExists, sessionReplaced, loggedOut, homeMoved

        /// Whether the gateway closes the connection after sending this code.
        public var closesConnection: Bool {
            switch self {
            case .malformed, .frameTooLarge, .unsupportedVersion, .rateLimited, .tooSlow, .banned, .sessionReplaced, .loggedOut, .homeMoved: true
            default: false
            }
        }
    }

    public var code: Code
    public var message: String
    /// The gateway's error code when ``code`` is ``Code/server``, or when the gateway sent an
    /// error just before closing (``Code/connectionClosed``).
    public var serverCode: ServerCode?

    public init(_ code: Code, _ message: String, serverCode: ServerCode? = nil) {
        self.code = code
        self.message = message
        self.serverCode = serverCode
    }

    public var description: String {
        if let serverCode { return "\(code.rawValue) (\(serverCode.rawValue)): \(message)" }
        return "\(code.rawValue): \(message)"
    }
}
