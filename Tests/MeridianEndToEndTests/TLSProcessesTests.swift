import Foundation
import MeridianTestCertificates
import MeridianTransport
import Testing

/// `meridian bootstrap` with TLS files from the environment: the nodes link over mutual TLS,
/// their gateways speak TLS, and `meridian loadtest --tls-ca` logs bots in through them.
@Suite("End to end: TLS", .serialized)
struct TLSProcessesTests {
    @Test(.timeLimit(.minutes(3)))
    func botsLogInThroughTLSGatewaysOfNodesLinkedByMutualTLS() async throws {
        let cluster = try await ProcessCluster(
            "e2e-tls", directoryPrefix: "meridian-e2e-tls",
            regions: [.init("eu-west", shards: 2, nodes: ["eu-west-1", "eu-west-2"])],
            latency: [:], catalogPrimary: "eu-west", seeds: ["eu-west-1"]
        )
        let directory = cluster.directory
        let authority = try TestCertificateAuthority()
        let ca = try authority.writeTrustRoot(to: directory)
        let gateway = try authority.issue(commonName: "gateway", ipAddresses: [[127, 0, 0, 1]]).write(to: directory, name: "gateway")
        func environment(_ node: String) throws -> [String: String] {
            let files = try authority.issue(commonName: node, uris: [ClusterTLS.nodeURI(node)]).write(to: directory, name: node)
            return [
                "MERIDIAN_GATEWAY_TLS_CERT": gateway.certificate, "MERIDIAN_GATEWAY_TLS_KEY": gateway.key,
                "MERIDIAN_CLUSTER_TLS_CA": ca, "MERIDIAN_CLUSTER_TLS_CERT": files.certificate, "MERIDIAN_CLUSTER_TLS_KEY": files.key,
            ]
        }
        let nodes = try ["eu-west-1", "eu-west-2"].map { try cluster.start($0, environment: try environment($0)) }
        defer { for node in nodes where node.isRunning { kill(node.processIdentifier, SIGKILL) } }

        // Half the bots log in at eu-west-2, whose players' logins the identity authority on
        // eu-west-1 answers: only over the mutual-TLS link.
        let reportFile = directory.appendingPathComponent("loadtest.json")
        var report: [String: Any] = [:]
        for attempt in 0..<30 where report["logged_in"] as? Int != 4 {
            if attempt > 0 { try await Task.sleep(for: .seconds(1)) }  // the nodes are still starting
            let loadtest = try Meridian.start(
                ["loadtest", "--topology", cluster.topologyPath, "--players", "4", "--ramp", "1", "--duration", "2", "--idle", "--tls-ca", ca, "--json"],
                log: reportFile
            )
            while loadtest.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            let output = try String(contentsOf: reportFile, encoding: .utf8)
            let json = output.split(separator: "\n").last { $0.hasPrefix("{") }
            report = json.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? [:]
        }
        #expect(report["logged_in"] as? Int == 4, "report: \(report) (logs in \(directory.path))")
        #expect((report["errors"] as? [String: Any])?.isEmpty == true, "report: \(report)")

        // The admin commands speak mutual TLS too, as the node id of their own certificate;
        // without one they cannot reach the nodes.
        let admin = try authority.issue(commonName: "admin-ops", uris: [ClusterTLS.nodeURI("admin-ops")]).write(to: directory, name: "admin-ops")
        let adminEnvironment = ["MERIDIAN_CLUSTER_TLS_CA": ca, "MERIDIAN_CLUSTER_TLS_CERT": admin.certificate, "MERIDIAN_CLUSTER_TLS_KEY": admin.key]
        let status = try Meridian.run(["status", "--topology", cluster.topologyPath, "--json"], environment: adminEnvironment)
        #expect(status.status == 0, "\(status.output)")
        let members = (try? JSONDecoder().decode([StatusRow].self, from: Data(status.output.utf8))) ?? []
        let up = Set(members.filter { $0.state == "up" }.map(\.node))
        #expect(up == ["eu-west-1", "eu-west-2"], "\(status.output)")
        let refused = try Meridian.run(["status", "--topology", cluster.topologyPath, "--json", "--timeout", "2"])
        #expect(refused.status != 0, "a plaintext admin command reached a mutual-TLS cluster: \(refused.output)")

        // Without the CA, the load generator is told the gateways speak TLS.
        let plaintext = try Meridian.run(
            ["loadtest", "--topology", cluster.topologyPath, "--players", "1", "--ramp", "0", "--duration", "1", "--idle", "--json"], withErrors: true
        )
        #expect(plaintext.output.contains("speaks TLS"), "\(plaintext.output.suffix(2000))")
        for node in nodes { node.terminate() }
        for node in nodes { try await node.exited() }
        try? FileManager.default.removeItem(at: directory)
    }
}
