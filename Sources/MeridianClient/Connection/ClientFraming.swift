import MeridianTransport
import MeridianWire
import NIOCore
import SwiftProtobuf

package typealias ClientMessage = Meridian_Client_V1_ClientMessage
package typealias ServerMessage = Meridian_Client_V1_ServerMessage

/// The client side of the gateway framing: a 4-byte big-endian length, then one message.
/// Inbound frames are split by MeridianTransport's ``FrameDecoder``; this adds the two ends
/// that are specific to client.proto.
package enum ClientFraming {
    /// Serializes a client (or, for test doubles and tools, a gateway) message into one frame.
    package static func frame(_ message: some SwiftProtobuf.Message) throws -> ByteBuffer {
        try ByteBuffer.frame(message)
    }

    /// Parses one frame's payload as a `ServerMessage`.
    package static func decodeServerMessage(_ payload: ByteBuffer) throws(MeridianClientError) -> ServerMessage {
        do {
            return try ServerMessage(serializedBytes: ProtobufBytes(payload))
        } catch {
            throw MeridianClientError(.malformed, "the gateway sent a frame that is not a ServerMessage (\(error)); is it a gateway of the same protocol version?")
        }
    }

    /// Parses one frame's payload as a `ClientMessage` (used by test doubles and tools).
    package static func decodeClientMessage(_ payload: ByteBuffer) throws -> ClientMessage {
        try ClientMessage(serializedBytes: ProtobufBytes(payload))
    }
}

extension MeridianClientError.ServerCode {
    package init(_ code: Meridian_Client_V1_Error.Code) {
        switch code {
        case .malformed: self = .malformed
        case .frameTooLarge: self = .frameTooLarge
        case .unsupportedVersion: self = .unsupportedVersion
        case .notLoggedIn: self = .notLoggedIn
        case .badToken: self = .badToken
        case .rateLimited: self = .rateLimited
        case .refused: self = .refused
        case .unavailable: self = .unavailable
        case .tooSlow: self = .tooSlow
        case .loginFailed: self = .loginFailed
        case .lockedOut: self = .lockedOut
        case .banned: self = .banned
        case .alreadyExists: self = .alreadyExists
        case .sessionReplaced: self = .sessionReplaced
        case .loggedOut: self = .loggedOut
        case .homeMoved: self = .homeMoved
        case .unknown, .UNRECOGNIZED: self = .unknown
        }
    }
}

extension MeridianClientError {
    /// The error a request fails with when the gateway answered `Error`.
    package init(server error: Meridian_Client_V1_Error) {
        let code = ServerCode(error.code)
        let advice: String
        switch code {
        case .notLoggedIn: advice = "log in (password, device, refresh or resume) first"
        case .badToken: advice = "the token is forged, expired, revoked or from another cluster; log in again"
        case .loginFailed: advice = "check the username and password"
        case .lockedOut: advice = "too many failed logins; wait before trying again"
        case .banned: advice = "the account is banned"
        case .alreadyExists: advice = "choose another username or log in to the existing account"
        case .sessionReplaced: advice = "the player logged in on another connection"
        case .loggedOut: advice = "the login ended; log in again"
        case .homeMoved: advice = "the player's home region moved; resume with the same token"
        case .refused: advice = "the request is not possible now"
        case .unavailable: advice = "a backend did not answer; retry"
        case .rateLimited: advice = "the client sent too much; slow down and reconnect"
        case .tooSlow: advice = "the client did not read its messages fast enough; reconnect and resume"
        case .unsupportedVersion: advice = "this client's protocol version is not served by this gateway; upgrade the client"
        case .frameTooLarge: advice = "a message exceeded the gateway's max_frame_bytes"
        case .malformed: advice = "the gateway could not decode a message; check the client and gateway versions"
        case .unknown: advice = "see the gateway's message"
        }
        let text = error.message.isEmpty ? advice : "\(error.message) — \(advice)"
        self.init(.server, text, serverCode: code)
    }
}
