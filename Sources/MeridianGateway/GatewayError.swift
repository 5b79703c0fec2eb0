import MeridianWire

/// Why the gateway refused a client's message; the code tells the client what to do and
/// whether the connection closes.
public struct GatewayError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        case malformed, frameTooLarge, unsupportedVersion, notLoggedIn, badToken
        case rateLimited, refused, unavailable, tooSlow
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
        case .malformed, .frameTooLarge, .unsupportedVersion, .rateLimited, .tooSlow: true
        case .notLoggedIn, .badToken, .refused, .unavailable: false
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
        }
    }

    func message(requestID: UInt64) -> Meridian_Client_V1_ServerMessage {
        var reply = Meridian_Client_V1_ServerMessage()
        reply.requestID = requestID
        reply.error.code = wireCode
        reply.error.message = message
        return reply
    }
}
