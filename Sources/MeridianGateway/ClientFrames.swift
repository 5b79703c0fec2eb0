import MeridianGame
import MeridianSimulation
import MeridianTransport
import MeridianWire
import NIOCore
import SwiftProtobuf

/// The part of reading a client that needs nothing from the cluster: one frame's
/// `ClientMessage`, what it is to the connection's state machine (``ClientConnectionState``),
/// and an input batch as the match takes it. Pure, so that the connection's reader, the
/// event-loop path for inputs (``ClientSession/takeOnEventLoop(_:)``) and the fuzz target
/// `gateway-client` (Fuzz/) read a client's bytes the same way.
package enum ClientFrames {
    /// Parses one frame's payload; bytes that are not a `ClientMessage` are malformed (which
    /// closes the connection).
    package static func message(_ frame: ByteBuffer) throws(GatewayError) -> Meridian_Client_V1_ClientMessage {
        do {
            return try Meridian_Client_V1_ClientMessage(serializedBytes: ProtobufBytes(frame))
        } catch {
            throw GatewayError(.malformed, "the frame is not a ClientMessage: \(error)")
        }
    }

    /// What `body` is to the connection's state machine.
    package static func kind(of body: Meridian_Client_V1_ClientMessage.OneOf_Body) -> ClientConnectionState.Message {
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

    /// A batch's inputs as the match takes them: out-of-range values are clamped (movement)
    /// or cut to the aim's 16 bits. More than `limit` inputs in one batch is malformed.
    package static func inputs(_ batch: Meridian_Client_V1_InputBatch, limit: Int) throws(GatewayError) -> [InputMessage] {
        guard batch.inputs.count <= limit else {
            throw GatewayError(.malformed, "at most \(limit) inputs per batch, got \(batch.inputs.count)")
        }
        return batch.inputs.map { input in
            InputMessage(PlayerInput(
                sequence: input.sequence, moveX: Int8(clamping: input.moveX), moveY: Int8(clamping: input.moveY),
                aim: UInt16(truncatingIfNeeded: input.aim), fire: input.fire, reload: input.reload
            ))
        }
    }
}
