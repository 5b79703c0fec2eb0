import Foundation
import MeridianWire
import SwiftProtobuf
import Testing

/// Golden bytes of node-to-node messages: a change to a field number or type breaks nodes of
/// the previous version, so it must show up here (and bump the protocol version).
@Suite struct WireCompatibilityTests {
    @Test func callEnvelopeBytesAreStable() throws {
        var envelope = Meridian_Cluster_V1_Envelope()
        envelope.call.callID = 7
        envelope.call.recipientPath = "/a"
        envelope.call.recipientIncarnation = 1
        envelope.call.targetID = 2
        envelope.call.arguments = Data([0xAB])
        envelope.call.timeoutMs = 100
        let bytes: [UInt8] = try envelope.serializedBytes()
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        #expect(hex == "520f08071202 2f61 1801 2002 3a01ab 4064".replacingOccurrences(of: " ", with: ""))
    }

    @Test func helloEnvelopeRoundTrips() throws {
        var envelope = Meridian_Cluster_V1_Envelope()
        envelope.hello.cluster = "meridian-local"
        envelope.hello.protocolVersion = 1
        envelope.hello.from.node = "eu-west-1"
        envelope.hello.from.incarnation = 42
        envelope.hello.nonce = Data(repeating: 1, count: 32)
        let bytes: [UInt8] = try envelope.serializedBytes()
        let decoded = try Meridian_Cluster_V1_Envelope(serializedBytes: bytes)
        #expect(decoded == envelope)
        #expect(bytes.first == 0x0A)  // field 1 (hello), length-delimited
    }
}
