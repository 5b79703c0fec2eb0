import Distributed
import Foundation
import Logging
import MeridianClock
import MeridianCluster
import MeridianMembership
import MeridianStorage
import MeridianTopology
import MeridianWire
import SwiftProtobuf

/// Calls the identity authority from any node or operator tool: resolves it on its node
/// (``IdentityPlacement/authorityNode(in:)``) and maps what can go wrong to an ``IdentityRefusal``.
package struct AuthorityClient: Sendable {
    let system: ClusterSystem
    /// The node the authority runs on; nil when the authority region has no nodes.
    package let authorityNode: String?
    let timeout: Duration
    let logger: Logger

    package init(system: ClusterSystem, topology: Topology, timeout: Duration = .seconds(5), logger: Logger) {
        self.system = system
        self.authorityNode = IdentityPlacement.authorityNode(in: topology)
        self.timeout = timeout
        self.logger = logger
    }

    /// Runs `body` against the authority within the timeout.
    package func call<T: Sendable>(_ body: @escaping @Sendable (IdentityAuthority) async throws -> T) async throws(IdentityRefusal) -> T {
        try await call(path: IdentityPlacement.authorityPath, timeout: timeout, body)
    }

    /// Runs `body` against the authority's transfer coordinator within `timeout` (a transfer
    /// takes a few round trips between regions; its caller waits for the end).
    package func transfers<T: Sendable>(timeout: Duration, _ body: @escaping @Sendable (TransferCoordinator) async throws -> T) async throws(IdentityRefusal) -> T {
        try await call(path: TransferCoordinator.path, timeout: timeout, body)
    }

    private func call<Actor: DistributedActor, T: Sendable>(
        path: String, timeout: Duration, _ body: @escaping @Sendable (Actor) async throws -> T
    ) async throws(IdentityRefusal) -> T where Actor.ActorSystem == ClusterSystem {
        do {
            guard let authorityNode else { throw IdentityRefusal(.unavailable, "the topology's identity authority region has no nodes") }
            let actor = try Actor.resolve(id: ClusterActorID(node: authorityNode, incarnation: 0, path: path), using: system)
            return try await ClusterSystem.withCallTimeout(timeout) { try await body(actor) }
        } catch let refusal as IdentityRefusal {
            throw refusal
        } catch let error as ClusterError where error.code == .remoteError {
            throw IdentityRefusal(.invalidRequest, error.message)
        } catch {
            logger.debug("identity authority call failed", metadata: ["meridian.error": "\(error)"])
            throw IdentityRefusal(.unavailable, "the identity authority (node \(authorityNode ?? "none")) is not reachable; retry")
        }
    }
}
