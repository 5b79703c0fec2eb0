import Crypto
import Distributed
import Foundation
import Logging
import MeridianAdmin
import MeridianCluster
import MeridianTopology
import MeridianWire
import SwiftProtobuf

/// Every node's part of `meridian topology apply` at ``path``: it checks a proposed version
/// (an operator's token, the file's rules, ``TopologyChangeRules``, the version compare-and-set of
/// ``TopologyChangeState``), adopts it on commit — kept in the node's data directory, handed to
/// the node's parts through its ``LiveTopology`` — and leaves the cluster (draining) when the
/// new version no longer names this node. ``catchUp(from:)`` adopts a newer version a peer runs:
/// how a node that was down during an apply converges.
public distributed actor TopologyAgent {
    public typealias ActorSystem = ClusterSystem

    public static let path = "/system/topology"

    private let live: LiveTopology
    private let file: AppliedTopologyFile?
    private let tokens: AdminTokens
    private let audit: AuditLog?
    private let leave: @Sendable () async -> Void
    private let now: @Sendable () -> Duration
    private let logger: Logger
    private var state: TopologyChangeState
    /// The prepared version, parsed.
    private var pending: LiveTopology.Version?
    private var leaving = false

    init(
        live: LiveTopology, file: AppliedTopologyFile?, tokens: AdminTokens, audit: AuditLog?,
        now: @escaping @Sendable () -> Duration, leave: @escaping @Sendable () async -> Void, logger: Logger, actorSystem: ClusterSystem
    ) {
        self.live = live
        self.file = file
        self.tokens = tokens
        self.audit = audit
        self.now = now
        self.leave = leave
        self.logger = logger
        self.state = TopologyChangeState(currentVersion: live.version)
        self.actorSystem = actorSystem
    }

    /// Phase one: may this node run `request`'s version? Holds it until the decision.
    package distributed func prepare(_ request: Meridian_Topology_V1_Prepare) async -> Meridian_Topology_V1_Vote {
        var vote = Meridian_Topology_V1_Vote()
        vote.node = actorSystem.nodeID
        switch check(request) {
        case .success(let version):
            switch state.prepare(version: version.topology.version, digest: request.digest, now: now()) {
            case .accepted:
                pending = version
                vote.accepted = true
            case .refused(let reason):
                vote.refusal = reason
            }
        case .failure(let refusal):
            vote.refusal = refusal.reason
        }
        if !vote.accepted {
            logger.notice("topology version refused", metadata: ["meridian.topology.version": "\(request.version)", "meridian.refusal": "\(vote.refusal)"])
        }
        return vote
    }

    /// Phase two: commit (adopt the prepared version) or abort it.
    package distributed func decide(_ decision: Meridian_Topology_V1_Decision) async -> Meridian_Topology_V1_Outcome {
        var outcome = Meridian_Topology_V1_Outcome()
        outcome.node = actorSystem.nodeID
        guard case .granted(let principal) = tokens.authorize(decision.adminToken, as: .operator) else {
            outcome.refusal = "an operator's admin token is required"
            outcome.version = Int64(live.version)
            return outcome
        }
        let version = Int(decision.version)
        guard decision.commit else {
            state.abort(version: version, digest: decision.digest)
            if state.prepared == nil { pending = nil }
            outcome.version = Int64(live.version)
            return outcome
        }
        switch state.commit(version: version, digest: decision.digest, now: now()) {
        case .apply:
            if let pending { await adopt(pending, by: principal) }
            pending = nil
        case .alreadyApplied:
            break
        case .refused(let reason):
            outcome.refusal = reason
        }
        outcome.version = Int64(live.version)
        return outcome
    }

    /// The version this node runs.
    package distributed func current() -> Meridian_Topology_V1_Current {
        let version = live.currentVersion
        return .with {
            $0.node = actorSystem.nodeID
            $0.version = Int64(version.topology.version)
            $0.yaml = version.yaml
            $0.state = leaving ? "leaving" : "running"
        }
    }

    /// Adopts the version `peer` runs when it is newer than this node's (checked like an apply,
    /// without the token: the cluster already committed it). Returns whether it did.
    @discardableResult
    public func catchUp(from peer: String) async -> Bool {
        guard peer != actorSystem.nodeID,
              let agent = try? TopologyAgent.resolve(id: ClusterActorID(node: peer, incarnation: 0, path: Self.path), using: actorSystem),
              let theirs = try? await ClusterSystem.withCallTimeout(.seconds(5), operation: { try await agent.current() }),
              Int(theirs.version) > live.version
        else { return false }
        let topology: Topology
        do {
            topology = try TopologyLoader.parse(yaml: theirs.yaml, file: "topology v\(theirs.version) from \(peer)")
        } catch {
            logger.error("a peer runs a topology this node cannot read", metadata: ["meridian.peer": "\(peer)", "meridian.error": "\(error)"])
            return false
        }
        guard topology.cluster == live.current.cluster, topology.version == Int(theirs.version) else { return false }
        state.learned(version: topology.version)
        if let pending, pending.topology.version <= topology.version { self.pending = nil }
        logger.notice("caught up with the cluster's topology", metadata: ["meridian.topology.version": "\(topology.version)", "meridian.peer": "\(peer)"])
        await adopt(LiveTopology.Version(topology: topology, yaml: theirs.yaml), by: nil)
        return true
    }

    private struct Refusal: Error {
        var reason: String
    }

    private func check(_ request: Meridian_Topology_V1_Prepare) -> Result<LiveTopology.Version, Refusal> {
        switch tokens.authorize(request.adminToken, as: .operator) {
        case .granted:
            break
        case .unknownToken:
            return .failure(Refusal(reason: "an operator's admin token is required (this node does not know the one given)"))
        case .insufficientRole(let holder):
            return .failure(Refusal(reason: "\(holder.name) is a \(holder.role.rawValue); applying a topology needs an operator"))
        }
        guard Data(SHA256.hash(data: Data(request.yaml.utf8))) == request.digest else {
            return .failure(Refusal(reason: "the file's digest does not match its text (damaged on the way)"))
        }
        let topology: Topology
        do {
            topology = try TopologyLoader.parse(yaml: request.yaml, file: "topology v\(request.version)")
        } catch {
            return .failure(Refusal(reason: "\(error)"))
        }
        guard topology.version == Int(request.version) else {
            return .failure(Refusal(reason: "the request names version \(request.version) but the file says \(topology.version)"))
        }
        let refusals = TopologyChangeRules.refusals(from: live.current, to: topology)
        guard refusals.isEmpty else { return .failure(Refusal(reason: refusals.joined(separator: "; "))) }
        return .success(LiveTopology.Version(topology: topology, yaml: request.yaml))
    }

    private func adopt(_ version: LiveTopology.Version, by principal: AdminPrincipal?) async {
        let previous = live.version
        guard live.adopt(version) else { return }
        do {
            try file?.save(version)
        } catch {
            logger.error("cannot keep the new topology version; a restart would run the older file until it catches up", metadata: [
                "meridian.file": "\(file?.path ?? "")", "meridian.error": "\(error)",
            ])
        }
        logger.notice("topology version adopted", metadata: ["meridian.topology.version": "\(version.topology.version)", "meridian.topology.previous": "\(previous)"])
        if let principal {
            await audit?.record(principal, action: "topology.apply", target: "v\(version.topology.version)", result: "ok")
        }
        if version.topology.node(id: actorSystem.nodeID) == nil, !leaving {
            leaving = true
            logger.notice("this node is not in the new topology: draining and leaving the cluster")
            let leave = leave
            Task { await leave() }
        }
    }
}

// The agent's messages travel as protobuf (`Protos/topology.proto`): tools of one version ask
// nodes of another.
extension Meridian_Topology_V1_Prepare: WireCodable {}
extension Meridian_Topology_V1_Vote: WireCodable {}
extension Meridian_Topology_V1_Decision: WireCodable {}
extension Meridian_Topology_V1_Outcome: WireCodable {}
extension Meridian_Topology_V1_Current: WireCodable {}
