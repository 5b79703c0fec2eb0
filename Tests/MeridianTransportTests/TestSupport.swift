import Foundation
import Logging
import MeridianTransport
import MeridianWire
import NIOCore
import Synchronization

// Values and helpers shared by the pure and EmbeddedChannel tests (no sockets here).

enum Fixtures {
    static let cluster = "meridian-test"
    static let secret = ClusterSecret(text: "meridian-test-secret-0001")!
    static let otherSecret = ClusterSecret(text: "not-the-cluster-secret-9999")!

    static func identity(_ node: String, region: String = "r1", incarnation: UInt64 = 1, address: String? = nil) -> PeerIdentity {
        PeerIdentity(node: node, incarnation: incarnation, region: region, address: address ?? "127.0.0.1:1")
    }

    static func local(
        _ node: String,
        region: String = "r1",
        address: String? = nil,
        cluster: String = Fixtures.cluster,
        secret: ClusterSecret = Fixtures.secret,
        topologyVersion: UInt64 = 1
    ) -> LocalHandshakeInfo {
        LocalHandshakeInfo(
            cluster: cluster,
            identity: identity(node, region: region, address: address),
            topologyVersion: topologyVersion,
            secret: secret
        )
    }

    /// A Call envelope; `callID` doubles as a sequence number, `tag` as a label.
    static func call(_ callID: UInt64, tag: String = "small", arguments: Data = Data()) -> Envelope {
        var envelope = Envelope()
        envelope.call.callID = callID
        envelope.call.recipientPath = tag
        envelope.call.arguments = arguments
        return envelope
    }

    /// One frame exactly as the wire carries it: 4-byte big-endian length, then `payload`.
    static func frame(_ payload: some Sequence<UInt8>) -> ByteBuffer {
        let bytes = Array(payload)
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(bytes.count))
        buffer.writeBytes(bytes)
        return buffer
    }

    static func frame(_ envelope: Envelope) throws -> ByteBuffer {
        try EnvelopeCoding.frame(envelope)
    }

    /// Quiet unless MERIDIAN_TEST_LOG is set (then everything goes to stderr).
    static let logger: Logger = {
        if ProcessInfo.processInfo.environment["MERIDIAN_TEST_LOG"] != nil {
            var logger = Logger(label: "meridian.transport.tests", factory: { label in StreamLogHandler.standardError(label: label) })
            logger.logLevel = .trace
            return logger
        }
        return Logger(label: "meridian.transport.tests", factory: { _ in SwiftLogNoOpLogHandler() })
    }()
}

/// Splits a byte stream into envelopes, for checking what a peer actually received.
func decodeFrames(_ bytes: ByteBuffer) throws -> [Envelope] {
    var buffer = bytes
    var decoder = FrameDecoder(maxFrameSize: .max)
    var envelopes: [Envelope] = []
    while let payload = try decoder.decode(buffer: &buffer) {
        envelopes.append(try EnvelopeCoding.decode(payload))
    }
    return envelopes
}

/// A small seeded PRNG so that "random" garbage is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension TransportError {
    /// The code of `error` when it is a ``TransportError``.
    static func code(of error: any Error) -> Code? { (error as? TransportError)?.code }
}

/// Polls `condition` until it holds or `timeout` passes; never sleeps longer than needed.
func eventually(
    within timeout: Duration = .seconds(20),
    every interval: Duration = .milliseconds(10),
    _ condition: () throws -> Bool
) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
        if try condition() { return true }
        if clock.now >= deadline { return false }
        try? await Task.sleep(for: interval)
    }
}

/// A flag that callbacks on another isolation domain may set.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
