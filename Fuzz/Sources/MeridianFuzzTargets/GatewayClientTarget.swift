import Foundation
import MeridianCluster
import MeridianGame
import MeridianGateway
import MeridianTransport
import MeridianWire
import NIOCore
import NIOEmbedded
import SwiftProtobuf

/// A client's bytes on a gateway connection, read the way the gateway reads them: the frame
/// decoder with the gateway's limit (``GatewayConfiguration/maxFrameBytes``), each frame a
/// `ClientMessage` (``ClientFrames``), the connection's state machine (``ClientConnectionState``)
/// deciding what may be served, input batches turned into the match's inputs and their wire
/// form (``InputMessage``, ``ClientUpdate``), and the Error reply a refusal sends. What needs
/// the cluster (a login's check, the profile) is stood in for: the request id decides whether a
/// login succeeds, so the fuzzer reaches every stage.
///
/// Input: one byte of options (bits 0–2: how the stream is cut into reads, ``FuzzInput/readSizes``),
/// then the client's byte stream.
///
/// Invariants: no frame over the limit is read; a refused message leaves the connection's state
/// as it was; a login that succeeded leaves the connection logged in; the input batches and the
/// replies the gateway sends survive their own encoding; nothing is read after a refusal that
/// closes the connection.
enum GatewayClientTarget {
    static let configuration = GatewayConfiguration()

    static func run(_ input: FuzzInput) {
        guard let (options, stream) = input.header else { return }
        let channel = EmbeddedChannel()
        do {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameSize: configuration.maxFrameBytes)))
        } catch {
            fatalError("could not set up the pipeline: \(error)")
        }
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        var connection = Connection()
        for read in FuzzInput.reads(of: stream, choice: options) {
            do {
                try channel.writeInbound(ByteBuffer(bytes: read))
            } catch let error as TransportError where error.code == .frameTooLarge {
                connection.refuse(GatewayError(.frameTooLarge, error.message))
            } catch {
                fatalError("the frame decoder failed with \(error), not a TransportError")
            }
            while !connection.closed, let frame = readFrame(channel) {
                connection.read(frame)
            }
            if connection.closed { break }
        }
    }

    private static func readFrame(_ channel: EmbeddedChannel) -> ByteBuffer? {
        do {
            return try channel.readInbound(as: ByteBuffer.self)
        } catch {
            fatalError("reading a decoded frame failed: \(error)")
        }
    }

    /// What ``GatewayServer``'s reader and ``ClientSession`` decide for one connection.
    struct Connection {
        var state = ClientConnectionState()
        var closed = false

        mutating func read(_ frame: ByteBuffer) {
            invariant(frame.readableBytes <= configuration.maxFrameBytes, "a \(frame.readableBytes)-byte frame passed the \(configuration.maxFrameBytes)-byte limit")
            var requestID: UInt64 = 0
            do throws(GatewayError) {
                let message = try ClientFrames.message(frame)
                requestID = message.requestID
                guard let body = message.body else { throw GatewayError(.malformed, "a message without a body") }
                let before = state
                let admission: ClientConnectionState.Admission
                do throws(GatewayError) {
                    admission = try state.receive(ClientFrames.kind(of: body), protocolVersion: clientProtocolVersion)
                } catch {
                    invariant(state == before, "a refused message changed the connection's state")
                    throw error
                }
                try serve(body, admission: admission, id: message.requestID)
            } catch {
                guard error.closesConnection else {
                    reply(error.message(requestID: requestID))
                    return
                }
                refuse(error)
            }
        }

        mutating func serve(_ body: Meridian_Client_V1_ClientMessage.OneOf_Body, admission: ClientConnectionState.Admission, id: UInt64) throws(GatewayError) {
            if admission == .welcome {
                var reply = Meridian_Client_V1_ServerMessage()
                reply.requestID = id
                reply.welcome.protocolVersion = clientProtocolVersion
                reply.welcome.maxFrameBytes = UInt32(configuration.maxFrameBytes)
                self.reply(reply)
                return
            }
            switch body {
            case .inputs(let batch):
                let inputs = try ClientFrames.inputs(batch, limit: configuration.maxInputsPerBatch)
                invariant(inputs.count == batch.inputs.count, "inputs were lost")
                roundTrip(ClientUpdate(player: Self.player(id), inputs: inputs, acknowledged: batch.ackTick == 0 ? nil : batch.ackTick))
            case .devLogin, .passwordLogin, .deviceLogin, .platformLogin, .refresh, .resume:
                // The identity layer's answer: most succeed, as one of four players.
                guard id % 5 != 0 else {
                    state.loginFailed()
                    throw GatewayError(.loginFailed, "refused by the stand-in identity layer")
                }
                do throws(GatewayError) {
                    try state.loginSucceeded(player: Self.player(id))
                } catch {
                    state.loginFailed()
                    throw error
                }
                invariant(state.isLoggedIn, "a login that succeeded left the connection logged out")
            case .logout:
                try state.logoutStarted()
                guard id % 3 != 0 else {
                    state.logoutFailed()
                    throw GatewayError(.unavailable, "the stand-in identity layer did not answer")
                }
                // The login's revocation comes back before the reply: it must not close the connection.
                invariant(!state.close(GatewayError(.loggedOut, "this login was ended; log in again")), "the client's own logout closed its connection before the reply")
                var reply = Meridian_Client_V1_ServerMessage()
                reply.requestID = id
                reply.loggedOut = .init()
                self.reply(reply)
                refuse(GatewayError(.loggedOut, "logged out"))
            default:
                break  // served by the cluster
            }
        }

        /// Sends `error` as the connection's last message; nothing more is read.
        mutating func refuse(_ error: GatewayError) {
            _ = state.close(error)
            reply(error.message(requestID: 0))
            closed = true
        }

        /// What the gateway sends must come back as it went, through the client's framing.
        func reply(_ message: Meridian_Client_V1_ServerMessage) {
            do {
                var frame = try ByteBuffer.frame(message)
                guard let length = frame.readInteger(as: UInt32.self), let payload = frame.readSlice(length: Int(length)), frame.readableBytes == 0 else {
                    fatalError("a reply's frame is not one whole frame")
                }
                let decoded = try Meridian_Client_V1_ServerMessage(serializedBytes: ProtobufBytes(payload))
                invariant(decoded == message, "a reply did not survive its encoding")
            } catch {
                fatalError("a reply could not be encoded or decoded: \(error)")
            }
        }

        /// The match's wire form of a client's inputs must come back as it went.
        func roundTrip(_ update: ClientUpdate) {
            do {
                var writer = WireWriter()
                try writer.write(update)
                var reader = WireReader(bytes: writer.bytes)
                let decoded: ClientUpdate = try reader.read()
                invariant(decoded == update && reader.isAtEnd, "a ClientUpdate did not survive its wire encoding")
            } catch {
                fatalError("a ClientUpdate could not be encoded or decoded: \(error)")
            }
        }

        static func player(_ id: UInt64) -> UUID {
            UUID(uuid: (0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, UInt8(id % 4)))
        }
    }
}
