import ArgumentParser
import Foundation
import Logging
import MeridianCluster
import MeridianCommandLine
import MeridianNode
import MeridianTopology

/// Where the admin commands send an operator's action: the ``AdminGate`` of the first up
/// member that answers (of `region` first, when given), which checks the token, records the
/// action in its audit log and carries it out.
struct AdminGateClient {
    let gate: AdminGate
    let node: String
    let token: String
    let topology: Topology

    /// Runs `body` with the gate of an up member, from a non-member client.
    static func with<T: Sendable>(
        topology path: String, secret: SecretOptions, token: AdminTokenOptions, logging: LoggingOptions, preferring region: String? = nil,
        _ body: (AdminGateClient) async throws -> T
    ) async throws -> T {
        var logger = logging.bootstrap()
        logger.logLevel = .warning
        let (parsed, _) = try Topology.loadOrExplain(path)
        let adminToken = try token.load()
        return try await StatusClient.with(topology: parsed, secret: try secret.load(), logger: logger) { client in
            guard let (_, members) = await client.firstAnswer(timeout: .seconds(2)) else {
                throw ValidationError("no node of \(path) answered (tried \(parsed.nodes.map(\.id).joined(separator: ", ")))")
            }
            let up = members.filter { $0.state == "up" }.sorted { ($0.region == region ? 0 : 1, $0.node) < ($1.region == region ? 0 : 1, $1.node) }
            guard !up.isEmpty else { throw ValidationError("no member of the cluster is up") }
            // A node that just started is up before its gate exists (the gate is among the last
            // parts to start): nothing ran there, so the next member is asked instead, every
            // 500 ms for up to 10 s.
            var attempt = 0
            return try await RetryPolicy(limit: .seconds(10), initialPause: .milliseconds(500), maximumPause: .milliseconds(500)).run(
                retryIf: { ($0 as? ClusterError)?.code == .actorNotFound }
            ) {
                let node = up[attempt % up.count].node
                attempt += 1
                let gate = try AdminGate.resolve(id: ClusterActorID(node: node, incarnation: 0, path: AdminGate.path), using: client.system)
                return try await body(AdminGateClient(gate: gate, node: node, token: adminToken, topology: parsed))
            }
        }
    }
}
