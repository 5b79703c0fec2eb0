import Foundation
import MeridianClient
import MeridianGateway
import MeridianTestCertificates
import MeridianTestSupport
import NIOCore
import NIOPosix
import NIOSSL
import Testing

/// A gateway with a certificate speaks only TLS: the client library connects over it and
/// plays; a plaintext client, and a client that does not trust the certificate, are refused
/// cleanly (their connection closes; the gateway goes on serving).
@Suite("Client: TLS to the gateway", .serialized)
struct GatewayTLSTests {
    let group = MultiThreadedEventLoopGroup.singleton

    /// Gateways on 127.0.0.1 with a certificate of `authority` for that address.
    static func gatewayConfiguration(_ authority: TestCertificateAuthority) throws -> GatewayConfiguration {
        let issued = try authority.issue(commonName: "gateway", ipAddresses: [[127, 0, 0, 1]])
        var configuration = GatewayConfiguration()
        configuration.tls = try GatewayTLS(certificateChain: issued.chain, privateKey: issued.key)
        return configuration
    }

    func client(to cluster: GameTestCluster, _ node: String, tls: ClientTLS?) async throws -> GameClient {
        let address = try #require(cluster.node(node)?.gateway?.address)
        let parts = address.split(separator: ":")
        var configuration = GameClient.Configuration()
        configuration.connection.tls = tls
        let client = GameClient(group: group, configuration: configuration, logger: testLogger())
        try await client.connect(host: String(parts[0]), port: Int(parts[1])!)
        return client
    }

    @Test func twoClientsPlayAMatchOverTLS() async throws {
        let authority = try TestCertificateAuthority()
        let tls = try ClientTLS(trustRoots: [try authority.trustRoot])
        try await GameTestCluster.with(
            rules: GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2, timeLimitSeconds: 1), gateways: true,
            gatewayConfiguration: try Self.gatewayConfiguration(authority)
        ) { cluster in
            var clients: [GameClient] = []
            for (node, name) in [("eu-west-1", "ann"), ("us-east-1", "bob")] {
                let client = try await client(to: cluster, node, tls: tls)
                _ = try await client.hello()
                _ = try await client.devLogin(playerID: UUID().uuidString.lowercased(), displayName: name)
                clients.append(client)
            }
            for client in clients {
                let status = try await client.queue(rtt: ["eu-west": .milliseconds(5), "us-east": .milliseconds(50)], region: "eu-west")
                #expect(status.queued)
            }
            // Each plays to the end: snapshots arrive (over TLS) and then its result.
            for client in clients {
                var snapshots = 0
                var result: MatchResult?
                for await event in client.events {
                    switch event {
                    case .snapshotApplied: snapshots += 1
                    case .result(let finished): result = finished
                    case .disconnected(let error): Issue.record("disconnected: \(error)")
                    default: break
                    }
                    if result != nil || event.isDisconnection { break }
                }
                #expect(snapshots > 0)
                #expect(result != nil)
            }
            for client in clients { await client.close() }
        }
    }

    @Test func plaintextAndUntrustingClientsAreRefusedAndTheGatewayServesOn() async throws {
        let authority = try TestCertificateAuthority()
        try await GameTestCluster.with(gateways: true, gatewayConfiguration: try Self.gatewayConfiguration(authority)) { cluster in
            // Plaintext: the gateway reads a Hello frame where a TLS record should be and answers
            // with a TLS alert, which the client recognises.
            let plaintext = try await client(to: cluster, "eu-west-1", tls: nil)
            do {
                _ = try await plaintext.hello()
                Issue.record("a plaintext client was answered by a TLS gateway")
            } catch let error as MeridianClientError {
                #expect(error.code == .connectFailed && error.message.contains("speaks TLS"), "\(error)")
            }
            await plaintext.close()
            // A client trusting another CA refuses the gateway's certificate.
            let stranger = try TestCertificateAuthority(name: "Another CA")
            let untrusting = try await client(to: cluster, "eu-west-1", tls: try ClientTLS(trustRoots: [try stranger.trustRoot]))
            do {
                _ = try await untrusting.hello()
                Issue.record("a client accepted a certificate it does not trust")
            } catch let error as MeridianClientError {
                #expect(error.code == .connectionClosed, "\(error)")
            }
            await untrusting.close()
            // The gateway goes on serving clients that speak TLS.
            let good = try await client(to: cluster, "eu-west-1", tls: try ClientTLS(trustRoots: [try authority.trustRoot]))
            _ = try await good.hello()
            await good.close()
        }
    }
}

extension GameEvent {
    var isDisconnection: Bool {
        if case .disconnected = self { return true }
        return false
    }
}
