import Foundation
import MeridianTestCertificates
import MeridianTransport
import MeridianWire
import NIOSSL
import Testing

extension Loopback {
    /// Node links over mutual TLS: a peer must hold a certificate of the cluster CA, and is
    /// accepted only as the node its certificate names.
    @Suite("Mutual TLS between nodes")
    struct MutualTLSTests {
        static func configuration(_ authority: TestCertificateAuthority, certifying node: String?, trusting roots: TestCertificateAuthority? = nil) throws -> TransportConfiguration {
            let issued = try authority.issue(commonName: node ?? "nobody", uris: node.map { [ClusterTLS.nodeURI($0)] } ?? [])
            var configuration = TestCluster.configuration
            configuration.tls = try ClusterTLS(certificateChain: issued.chain, privateKey: issued.key, trustRoots: [try (roots ?? authority).trustRoot])
            return configuration
        }

        @Test("two nodes with certificates of the cluster CA connect, and messages flow both ways")
        func certifiedNodesConnect() async throws {
            let authority = try TestCertificateAuthority()
            try await TestCluster.run { cluster in
                let a = try await cluster.start("node-a", configuration: try Self.configuration(authority, certifying: "node-a"))
                let b = try await cluster.start("node-b", configuration: try Self.configuration(authority, certifying: "node-b"))
                try a.send(Fixtures.call(1, tag: "over tls"), to: b)
                let arrived = await eventually { b.collector.calls.map(\.callID) == [1] }
                #expect(arrived)
                try b.send(Fixtures.call(2), to: a)
                let answered = await eventually { a.collector.calls.map(\.callID) == [2] }
                #expect(answered)
                #expect(b.transport.connection(to: "node-a")?.peer.node == "node-a")
            }
        }

        @Test("a node whose certificate comes from another CA gets no connection, dialing or dialed", arguments: [true, false])
        func certificateOfAnotherCA(strangerDials: Bool) async throws {
            let authority = try TestCertificateAuthority()
            let stranger = try TestCertificateAuthority(name: "Someone else's CA")
            try await TestCluster.run { cluster in
                let member = try await cluster.start("member", configuration: try Self.configuration(authority, certifying: "member"))
                // The stranger knows the cluster secret and trusts our CA; its own certificate is not ours.
                let intruder = try await cluster.start("intruder", configuration: try Self.configuration(stranger, certifying: "intruder", trusting: authority))
                if strangerDials {
                    try intruder.send(Fixtures.call(1), to: member)
                } else {
                    try member.send(Fixtures.call(1), to: intruder)
                }
                let gaveUp = await eventually { (strangerDials ? intruder : member).collector.undeliverable.count == 1 }
                #expect(gaveUp, "the dialer gave up on the message")
                for node in [member, intruder] {
                    #expect(node.collector.established.isEmpty, "\(node.name) established a connection")
                    #expect(node.collector.calls.isEmpty)
                }
            }
        }

        @Test("a node with a valid certificate that claims another node's id is refused", arguments: [true, false])
        func certificateOfAnotherNode(impostorDials: Bool) async throws {
            let authority = try TestCertificateAuthority()
            try await TestCluster.run { cluster in
                let member = try await cluster.start("member", configuration: try Self.configuration(authority, certifying: "member"))
                // A real member's certificate (node-b's), presented by a process that says it is node-c.
                let impostor = try await cluster.start("node-c", configuration: try Self.configuration(authority, certifying: "node-b"))
                if impostorDials {
                    try impostor.send(Fixtures.call(1), to: member)
                } else {
                    try member.send(Fixtures.call(1), to: impostor)
                }
                let refused = await eventually { member.transport.errorCounters.snapshot.authenticationFailures >= 1 }
                #expect(refused, "the member counted an authentication failure")
                for node in [member, impostor] {
                    #expect(node.collector.established.isEmpty, "\(node.name) established a connection")
                    #expect(node.collector.calls.isEmpty)
                }
            }
        }

        @Test("a certificate that names no node is refused")
        func certificateNamingNoNode() async throws {
            let authority = try TestCertificateAuthority()
            try await TestCluster.run { cluster in
                let member = try await cluster.start("member", configuration: try Self.configuration(authority, certifying: "member"))
                let anonymous = try await cluster.start("anonymous", configuration: try Self.configuration(authority, certifying: nil))
                try anonymous.send(Fixtures.call(1), to: member)
                let refused = await eventually { member.transport.errorCounters.snapshot.authenticationFailures >= 1 }
                #expect(refused)
                #expect(member.collector.established.isEmpty)
            }
        }

        @Test("a plaintext node cannot talk to a TLS node")
        func plaintextPeer() async throws {
            let authority = try TestCertificateAuthority()
            try await TestCluster.run { cluster in
                let member = try await cluster.start("member", configuration: try Self.configuration(authority, certifying: "member"))
                let plain = try await cluster.start("plain")
                try plain.send(Fixtures.call(1), to: member)
                let gaveUp = await eventually { plain.collector.undeliverable.count == 1 }
                #expect(gaveUp)
                #expect(member.collector.established.isEmpty && plain.collector.established.isEmpty)
            }
        }
    }
}
