import Distributed
import Foundation
import MeridianCluster
import MeridianWire

/// What a publish did.
public struct CatalogPublishReceipt: Sendable, Hashable {
    public var version: UInt64
    public var contentHash: CatalogHash
    /// The node that assigned the version.
    public var leader: String
    /// Nodes serving (and having persisted) the version when the leader replied, leader included.
    public var acknowledged: [String]
    /// Alive members that did not acknowledge in time; they catch up by anti-entropy.
    public var missed: [String]

    package init(reply: Meridian_Catalog_V1_PublishReply) {
        version = reply.version
        contentHash = CatalogHash(bytes: reply.contentSha256) ?? CatalogHash(of: [])
        leader = reply.leader
        acknowledged = reply.acknowledged
        missed = reply.missed
    }
}

/// What one node serves, or why it could not say.
public struct CatalogReplicaReport: Sendable, Hashable {
    public var node: String
    public var region: String
    public var version: UInt64?
    public var contentHash: CatalogHash?
    public var publishedAt: Date?
    /// Why the node did not answer; `nil` when it did.
    public var problem: String?
}

/// Publishes catalogs and asks nodes what they serve, from any actor system — a node, or a tool that
/// does not join the cluster (`meridian catalog`, with `joinsCluster = false`).
public struct CatalogAdmin: Sendable {
    public let system: ClusterSystem

    public init(system: ClusterSystem) {
        self.system = system
    }

    /// Publishes `content` through the first of `primaryNodes` (the primary region's nodes) that answers;
    /// that node forwards to the leader if it is not the leader itself.
    /// - Throws: ``CatalogPublishError`` (as a `ClusterError.remoteError` when a node refused), or
    ///   ``CatalogPublishError/Code/unreachable`` when none answered.
    public func publish(_ content: CatalogContent, source: String, primaryNodes: [String], timeout: Duration = .seconds(30)) async throws -> CatalogPublishReceipt {
        CatalogPublishReceipt(reply: try await publish(Self.request(content, source: source), primaryNodes: primaryNodes, timeout: timeout))
    }

    /// The publish request of `content` from file `source`.
    package static func request(_ content: CatalogContent, source: String) -> Meridian_Catalog_V1_PublishRequest {
        var request = Meridian_Catalog_V1_PublishRequest()
        request.content = Data(content.encoded())
        request.source = source
        return request
    }

    /// Publishes a request as ``publish(_:source:primaryNodes:timeout:)`` does (a node's admin
    /// gate forwards an operator's request with it).
    package func publish(_ request: Meridian_Catalog_V1_PublishRequest, primaryNodes: [String], timeout: Duration) async throws -> Meridian_Catalog_V1_PublishReply {
        var failures: [String] = []
        for node in primaryNodes {
            let replica = try CatalogReplica.resolve(id: replicaID(node), using: system)
            let reply: Meridian_Catalog_V1_PublishReply
            do {
                reply = try await ClusterSystem.withCallTimeout(timeout) { try await replica.publish(request) }
            } catch let error as ClusterError where error.isForbidden || (error.code == .remoteError && !(error.remoteType ?? "").hasSuffix("ClusterError")) {
                throw error  // A node answered and refused: another node would say the same.
            } catch {
                failures.append("\(node): \(error)")
                continue
            }
            return reply
        }
        throw CatalogPublishError(.unreachable, "no node of the catalog primary region answered (\(failures.joined(separator: "; ")))")
    }

    /// What `node` serves.
    public func report(node: String, region: String, timeout: Duration = .seconds(2)) async -> CatalogReplicaReport {
        var report = CatalogReplicaReport(node: node, region: region)
        do {
            let replica = try CatalogReplica.resolve(id: replicaID(node), using: system)
            let status = try await ClusterSystem.withCallTimeout(timeout) { try await replica.status() }
            report.version = status.version
            report.contentHash = CatalogHash(bytes: status.contentSha256)
            report.publishedAt = status.publishedAtMs > 0 ? CatalogContent.date(status.publishedAtMs) : nil
        } catch {
            report.problem = "\(error)"
        }
        return report
    }

    /// What every node in `nodes` (id, region) serves, asked concurrently, in the order given.
    public func reports(nodes: [(node: String, region: String)], timeout: Duration = .seconds(2)) async -> [CatalogReplicaReport] {
        await withTaskGroup(of: (Int, CatalogReplicaReport).self) { group in
            for (index, entry) in nodes.enumerated() {
                group.addTask { (index, await report(node: entry.node, region: entry.region, timeout: timeout)) }
            }
            var reports: [(Int, CatalogReplicaReport)] = []
            for await result in group { reports.append(result) }
            return reports.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// The replica of `node`, whatever its incarnation. (The actor system resolves incarnation 0 only for
    /// other nodes; its own node needs its real incarnation.)
    private func replicaID(_ node: String) -> ClusterActorID {
        ClusterActorID(node: node, incarnation: node == system.nodeID ? system.incarnation : 0, path: CatalogReplica.path)
    }
}
