import MeridianTransport
import MeridianWire
import NIOCore
import NIOEmbedded

/// A peer's bytes on a node-to-node connection, through the handlers every connection runs
/// (``ClusterTransport/addProtocolHandlers(to:local:dialing:configuration:budget:)``): the
/// frame decoder with its handshake-time limit, envelope decoding, the handshake handler and
/// state machine, fragment reassembly with its bounds and bulk credits, heartbeats.
///
/// Input: one byte of options, then the peer's byte stream. Options: bits 0–1 the role —
/// 0 this node accepts (the stream is a dialer's), 1 this node dials (the stream answers its
/// Hello), 2 and 3 this node accepts and a dialer that knows the cluster secret completes the
/// handshake first (the stream is an authenticated peer's: reassembly and heartbeats are
/// reached); bits 2–4 how the stream is cut into reads (``FuzzInput/readSizes``).
///
/// Invariants: nothing but the handshake is acted on before the peer is authenticated, and a
/// peer that does not know the secret never completes the handshake; the first error ends the
/// connection, as ``PeerChannelHandler`` closes it.
enum ClusterLinkTarget {
    static let secret = ClusterSecret(text: "meridian-fuzz-cluster-secret")!

    static func local(_ node: String) -> LocalHandshakeInfo {
        LocalHandshakeInfo(
            cluster: "meridian-fuzz", identity: PeerIdentity(node: node, incarnation: 1, region: "r1", address: "127.0.0.1:7001"),
            topologyVersion: 1, secret: secret
        )
    }

    /// Production's shape at a scale the fuzzer reaches: limits of a few KiB instead of MiB.
    static let configuration: TransportConfiguration = {
        var configuration = TransportConfiguration()
        configuration.maxHandshakeFrameSize = 1024
        configuration.maxFrameSize = 16 * 1024
        configuration.fragmentSize = 1024
        configuration.bulkWindow = 8 * 1024
        configuration.maxMessageSize = 32 * 1024
        configuration.maxPendingOutboundBytes = 64 * 1024
        return configuration
    }()

    static func run(_ input: FuzzInput) {
        guard let (options, stream) = input.header else { return }
        let role = options & 3
        let channel = EmbeddedChannel()
        let sink = Sink()
        do {
            try ClusterTransport.addProtocolHandlers(
                to: channel.pipeline.syncOperations, local: local("node-a"), dialing: role == 1,
                configuration: configuration, budget: OutboundBudget(limit: configuration.maxPendingOutboundBytes)
            )
            try channel.pipeline.syncOperations.addHandler(sink)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7002)).wait()
        } catch {
            fatalError("could not set up the pipeline: \(error)")
        }
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        drainOutbound(channel)
        if role >= 2 {
            authenticate(channel, sink: sink)
        }
        for read in FuzzInput.reads(of: stream, choice: options >> 2) {
            guard !sink.failed, channel.isActive else { break }
            do {
                try channel.writeInbound(ByteBuffer(bytes: read))
            } catch {
                break  // an error no handler took: the connection is gone
            }
            drainOutbound(channel)
            if role < 2 {
                invariant(!sink.completed, "a peer without the cluster secret completed the handshake")
            }
        }
    }

    /// Completes the handshake as a dialer that knows the secret would.
    private static func authenticate(_ channel: EmbeddedChannel, sink: Sink) {
        var dialer = HandshakeStateMachineDriver(local: local("node-b"))
        do {
            try channel.writeInbound(try EnvelopeCoding.frame(dialer.hello()))
            guard let ack = try readEnvelopes(channel).first else { fatalError("the acceptor did not answer Hello") }
            guard let proof = dialer.proof(answering: ack) else { fatalError("the acceptor's HelloAck did not authenticate") }
            try channel.writeInbound(try EnvelopeCoding.frame(proof))
        } catch {
            fatalError("the handshake with the cluster's own secret failed: \(error)")
        }
        drainOutbound(channel)
        invariant(sink.completed && !sink.failed, "the handshake with the cluster's own secret did not complete")
    }

    /// The envelopes the node wrote: its writes joined, then cut into frames (a fragment's
    /// header and chunk are separate writes), each of which must be whole.
    private static func readEnvelopes(_ channel: EmbeddedChannel) throws -> [Envelope] {
        var written = ByteBuffer()
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            written.writeBuffer(&buffer)
        }
        var envelopes: [Envelope] = []
        while let length = written.readInteger(as: UInt32.self) {
            guard let payload = written.readSlice(length: Int(length)) else { fatalError("the node wrote half a frame") }
            envelopes.append(try EnvelopeCoding.decode(payload))
        }
        return envelopes
    }

    /// What the node sends must always be well-formed envelopes.
    private static func drainOutbound(_ channel: EmbeddedChannel) {
        do {
            _ = try readEnvelopes(channel)
        } catch {
            fatalError("the node wrote a frame that is not an envelope: \(error)")
        }
    }

    /// Stands in for ``PeerChannelHandler``: records what gets through, closes on the first error.
    final class Sink: ChannelInboundHandler {
        typealias InboundIn = Envelope

        var completed = false
        var failed = false

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is HandshakeCompleted { completed = true }
            context.fireUserInboundEventTriggered(event)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            invariant(completed, "an envelope got past the handshake before it completed")
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            failed = true
            context.close(promise: nil)
        }
    }
}

/// The dialing side of a handshake with the cluster's secret, on the real state machine.
private struct HandshakeStateMachineDriver {
    var machine: HandshakeStateMachine

    init(local: LocalHandshakeInfo) {
        machine = HandshakeStateMachine(local: local)
    }

    mutating func hello() -> Envelope {
        machine.startDialing(nonce: Array(repeating: 0x5A, count: 32))
    }

    mutating func proof(answering ack: Envelope) -> Envelope? {
        guard case .sendAndComplete(let proof, _) = machine.receive(ack) else { return nil }
        return proof
    }
}
