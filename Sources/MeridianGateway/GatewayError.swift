import MeridianIdentity
import MeridianWire

/// Why the gateway refused a client's message; the code tells the client what to do and
/// whether the connection closes.
public struct GatewayError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        case malformed, frameTooLarge, unsupportedVersion, notLoggedIn, badToken
        case rateLimited, refused, unavailable, tooSlow
        case loginFailed, lockedOut, banned, alreadyExists, sessionReplaced, loggedOut, homeMoved
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// Whether the gateway closes the connection after sending this error.
    public var closesConnection: Bool {
        switch code {
        case .malformed, .frameTooLarge, .unsupportedVersion, .rateLimited, .tooSlow, .banned, .sessionReplaced, .loggedOut, .homeMoved: true
        case .notLoggedIn, .badToken, .refused, .unavailable, .loginFailed, .lockedOut, .alreadyExists: false
        }
    }

    var wireCode: Meridian_Client_V1_Error.Code {
        switch code {
        case .malformed: .malformed
        case .frameTooLarge: .frameTooLarge
        case .unsupportedVersion: .unsupportedVersion
        case .notLoggedIn: .notLoggedIn
        case .badToken: .badToken
        case .rateLimited: .rateLimited
        case .refused: .refused
        case .unavailable: .unavailable
        case .tooSlow: .tooSlow
        case .loginFailed: .loginFailed
        case .lockedOut: .lockedOut
        case .banned: .banned
        case .alreadyExists: .alreadyExists
        case .sessionReplaced: .sessionReplaced
        case .loggedOut: .loggedOut
        case .homeMoved: .homeMoved
        }
    }

    /// What a client is told when the identity layer refused its login or refresh.
    init(_ refusal: IdentityRefusal) {
        switch refusal.code {
        case .invalidCredentials: self.init(.loginFailed, refusal.message)
        case .locked:
            let seconds = refusal.retryAfter.map { max(1, Int(($0 / .seconds(1)).rounded(.up))) }
            self.init(.lockedOut, refusal.message + (seconds.map { " (retry in \($0) s)" } ?? ""))
        case .banned: self.init(.banned, refusal.message)
        case .alreadyExists: self.init(.alreadyExists, refusal.message)
        case .invalidRequest, .devLoginDisabled: self.init(.refused, refusal.message)
        case .refreshInvalid: self.init(.badToken, refusal.message)
        case .unavailable: self.init(.unavailable, refusal.message)
        }
    }

    /// The Error message that tells the client.
    package func message(requestID: UInt64) -> Meridian_Client_V1_ServerMessage {
        var reply = Meridian_Client_V1_ServerMessage()
        reply.requestID = requestID
        reply.error.code = wireCode
        reply.error.message = message
        return reply
    }
}
