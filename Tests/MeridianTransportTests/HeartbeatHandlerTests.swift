import MeridianTransport
import MeridianWire
import NIOCore
import NIOConcurrencyHelpers
import NIOEmbedded
import Testing

/// Heartbeats and the idle timeout on a stepped event loop: no wall-clock waits.
@Suite("Heartbeat handler")
struct HeartbeatHandlerTests {
    static let interval = TimeAmount.milliseconds(100)
    static let idleTimeout = TimeAmount.milliseconds(1500)

    /// A channel whose handshake completed, with the handler under test.
    static func connectedChannel(roundTrips: RoundTrips = RoundTrips()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let handler = HeartbeatHandler(interval: interval, idleTimeout: idleTimeout, budget: OutboundBudget(limit: 1 << 20)) {
            roundTrips.record($0)
        }
        try channel.pipeline.syncOperations.addHandler(handler)
        let peer = PeerIdentity(node: "node-b", incarnation: 1, region: "r1", address: "127.0.0.1:1")
        channel.pipeline.fireUserInboundEventTriggered(HandshakeCompleted(peer: peer, peerTopologyVersion: 1, dialed: true))
        return channel
    }

    /// Every heartbeat the handler wrote since the last call.
    static func writtenHeartbeats(_ channel: EmbeddedChannel) throws -> [Meridian_Cluster_V1_Heartbeat] {
        var heartbeats: [Meridian_Cluster_V1_Heartbeat] = []
        while var frame = try channel.readOutbound(as: ByteBuffer.self) {
            let length = frame.readInteger(as: UInt32.self)
            let payloadFound = length.flatMap { frame.readSlice(length: Int($0)) }
            let payload = try #require(payloadFound)
            let envelope = try EnvelopeCoding.decode(payload)
            guard case .heartbeat(let heartbeat)? = envelope.kind else {
                Issue.record("the handler wrote something other than a heartbeat: \(envelope)")
                continue
            }
            heartbeats.append(heartbeat)
        }
        return heartbeats
    }

    static func heartbeat(_ body: (inout Meridian_Cluster_V1_Heartbeat) -> Void) -> Envelope {
        var heartbeat = Meridian_Cluster_V1_Heartbeat()
        body(&heartbeat)
        var envelope = Envelope()
        envelope.heartbeat = heartbeat
        return envelope
    }

    @Test("a quiet connection sends a heartbeat every interval and survives while the peer's heartbeats arrive")
    func quietConnectionSurvives() throws {
        let channel = try Self.connectedChannel()
        // Three idle timeouts of silence from us, the peer heartbeating every interval.
        for _ in 0..<45 {
            channel.embeddedEventLoop.advanceTime(by: Self.interval)
            try channel.writeInbound(Self.heartbeat { $0.sentAtNanos = 1 })
            #expect(try channel.readInbound(as: Envelope.self) == nil, "heartbeats are the handler's own, not passed on")
        }
        let written = try Self.writtenHeartbeats(channel)
        let count2 = written.filter { !$0.isReply }.count
        #expect(count2 == 45)
        let count3 = written.filter { $0.isReply && $0.echo == 1 }.count
        #expect(count3 == 45)
        try channel.throwIfErrorCaught()
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a connection that writes needs no heartbeat; other traffic passes through")
    func trafficReplacesHeartbeats() throws {
        let channel = try Self.connectedChannel()
        for _ in 0..<10 {
            try channel.writeOutbound(ByteBuffer(string: "x"))
            channel.embeddedEventLoop.advanceTime(by: Self.interval)
            _ = try channel.readOutbound(as: ByteBuffer.self)
            #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "a heartbeat went out although we wrote this interval")
            var call = Envelope()
            call.call = Meridian_Cluster_V1_Call()
            try channel.writeInbound(call)
            #expect(try channel.readInbound(as: Envelope.self) != nil)
        }
        try channel.throwIfErrorCaught()
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test("silence from the peer raises idleTimeout once the timeout has passed, and not before")
    func silenceTimesOut() throws {
        let channel = try Self.connectedChannel()
        channel.embeddedEventLoop.advanceTime(by: Self.idleTimeout)
        try channel.throwIfErrorCaught()
        channel.embeddedEventLoop.advanceTime(by: Self.interval)
        #expect {
            try channel.throwIfErrorCaught()
        } throws: { error in
            (error as? TransportError)?.code == .idleTimeout
        }
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a reply to our heartbeat reports the round trip measured on the loop's clock")
    func roundTripIsMeasured() throws {
        let roundTrips = RoundTrips()
        let channel = try Self.connectedChannel(roundTrips: roundTrips)
        channel.embeddedEventLoop.advanceTime(by: Self.interval)
        let sent = try #require(try Self.writtenHeartbeats(channel).first)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(30))
        try channel.writeInbound(Self.heartbeat {
            $0.isReply = true
            $0.echo = sent.sentAtNanos
        })
        #expect(roundTrips.all == [.milliseconds(30)])
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}

/// Round trips reported by the handler (called on the embedded loop, read by the test).
final class RoundTrips: Sendable {
    private let storage = NIOLockedValueBox<[TimeAmount]>([])
    func record(_ amount: TimeAmount) { storage.withLockedValue { $0.append(amount) } }
    var all: [TimeAmount] { storage.withLockedValue { $0 } }
}
