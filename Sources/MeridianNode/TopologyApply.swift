import Crypto
import Distributed
import Foundation
import MeridianCluster
import MeridianTopology
import MeridianWire

/// The tool's side of `meridian topology apply`: a two-phase change over the up members.
/// Phase one asks each to prepare, one at a time in node-id order — so of two applies racing for
/// the same version, the second is refused at the first node and touches no other; any refusal
/// (or a node that does not answer) aborts the change everywhere it was prepared. Phase two
/// commits on every member. A member that misses the commit, or was down, takes the version
/// from a peer when it next sees one up.
public struct TopologyApply: Sendable {
    public struct NodeResult: Sendable {
        public var node: String
        public var accepted: Bool
        public var refusal: String?
        /// The version in force on the node afterwards; nil when it did not answer.
        public var version: Int?
    }

    public struct Result: Sendable {
        public var version: Int
        public var applied: Bool
        public var nodes: [NodeResult]
    }

    let system: ClusterSystem
    let timeout: Duration

    /// - Parameters:
    ///   - system: Any actor system that reaches the members (a tool's non-member one, a node's).
    ///   - timeout: How long each node may take to answer.
    public init(system: ClusterSystem, timeout: Duration) {
        self.system = system
        self.timeout = timeout
    }

    /// Applies `topology` (whose text is `yaml`) to `members` (the up members' ids) with an
    /// operator's admin `token`.
    public func run(yaml: String, topology: Topology, members: [String], token: String) async -> Result {
        let digest = Data(SHA256.hash(data: Data(yaml.utf8)))
        var request = Meridian_Topology_V1_Prepare()
        request.version = Int64(topology.version)
        request.yaml = yaml
        request.digest = digest
        request.adminToken = token
        var results: [NodeResult] = []
        var prepared: [String] = []
        for node in members.sorted() {
            do {
                let vote = try await ClusterSystem.withCallTimeout(timeout) { try await agent(node).prepare(request) }
                results.append(NodeResult(node: node, accepted: vote.accepted, refusal: vote.accepted ? nil : vote.refusal))
                guard vote.accepted else { break }
                prepared.append(node)
            } catch {
                results.append(NodeResult(node: node, accepted: false, refusal: "did not answer: \(error)"))
                break
            }
        }
        let commit = prepared.count == members.count
        var decision = Meridian_Topology_V1_Decision()
        decision.version = Int64(topology.version)
        decision.digest = digest
        decision.adminToken = token
        decision.commit = commit
        let sent = decision
        let outcomes = await withTaskGroup(of: (String, Meridian_Topology_V1_Outcome?).self) { group in
            for node in prepared {
                group.addTask { (node, try? await ClusterSystem.withCallTimeout(timeout) { try await agent(node).decide(sent) }) }
            }
            var outcomes: [String: Meridian_Topology_V1_Outcome?] = [:]
            for await (node, outcome) in group { outcomes[node] = outcome }
            return outcomes
        }
        for index in results.indices {
            guard let answered = outcomes[results[index].node] else { continue }
            if let outcome = answered {
                results[index].version = Int(outcome.version)
                if !outcome.refusal.isEmpty { results[index].refusal = outcome.refusal }
            } else if commit {
                results[index].refusal = "did not answer the commit; it takes the version from a peer when it next sees one"
            }
        }
        return Result(version: topology.version, applied: commit, nodes: results)
    }

    private func agent(_ node: String) throws -> TopologyAgent {
        try TopologyAgent.resolve(id: ClusterActorID(node: node, incarnation: 0, path: TopologyAgent.path), using: system)
    }
}
