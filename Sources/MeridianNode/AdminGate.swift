import Distributed
import Foundation
import Logging
import MeridianAdmin
import MeridianCatalog
import MeridianCluster
import MeridianGame
import MeridianIdentity
import MeridianRegion
import MeridianTopology
import MeridianTransport
import MeridianWire
import NIOCore
import SwiftProtobuf

/// Every node's door for operators' actions at ``path``: `meridian catalog publish`,
/// `player grant`, `account ban|unban`, `identity rotate-keys` and `player transfer` call it
/// with an operator's admin token. It checks the token, records the action in the node's audit
/// log (who, what, when, result) and carries it out as the node itself: the functions behind it
/// refuse callers that are not cluster members (``MeridianCluster/ClusterSystem/requireMemberCaller(for:)``),
/// so holding the cluster secret alone no longer lets a tool do any of this.
public distributed actor AdminGate {
    public typealias ActorSystem = ClusterSystem

    public static let path = "/system/admin"

    private let tokens: AdminTokens
    private let audit: AuditLog
    private let game: GameServices
    private let identity: IdentityNode
    private let logger: Logger

    init(tokens: AdminTokens, audit: AuditLog, game: GameServices, identity: IdentityNode, logger: Logger, actorSystem: ClusterSystem) {
        self.tokens = tokens
        self.audit = audit
        self.game = game
        self.identity = identity
        self.logger = logger
        self.actorSystem = actorSystem
    }

    /// Grants `count` of `item` to `player` in `region`, by default the player's home region as
    /// the identity directory says (idempotent by key).
    public distributed func grant(token: String, player: UUID, region: String?, item: String, count: Int64, idempotencyKey: String) async throws -> LedgerReceiptView {
        try await act(token, "player.grant", target: "\(player.uuidString.lowercased()) \(item) \(count) key=\(idempotencyKey)") {
            let region = if let region { region } else { try await identity.homeRegion(of: player) }
            return try await game.directory.home(of: player, region: region).grant(item: item, count: count, idempotencyKey: idempotencyKey)
        }
    }

    /// Bans (or lifts the ban on) `player`'s account.
    package distributed func setBanned(token: String, player: UUID, banned: Bool) async throws -> Meridian_Identity_V1_DirectoryEntry {
        try await act(token, banned ? "account.ban" : "account.unban", target: player.uuidString.lowercased()) {
            try await identity.setBanned(player: player, banned: banned).proto
        }
    }

    /// Starts signing access tokens with a new key; returns every key id, the signing one last.
    public distributed func rotateKeys(token: String) async throws -> [String] {
        try await act(token, "identity.rotate_keys", target: "signing keys") {
            try await identity.rotateKeys()
        }
    }

    /// Publishes a catalog through the catalog primary region's leader.
    /// `timeoutMilliseconds`: how long the leader may take, its pushes included.
    package distributed func publishCatalog(token: String, request: Meridian_Catalog_V1_PublishRequest, timeoutMilliseconds: Int64) async throws -> Meridian_Catalog_V1_PublishReply {
        try await act(token, "catalog.publish", target: request.source) {
            let topology = game.topology
            let primary = topology.nodes(in: topology.catalogPrimary).map(\.id).sorted()
            return try await CatalogAdmin(system: actorSystem).publish(request, primaryNodes: primary, timeout: .milliseconds(timeoutMilliseconds))
        } describe: { reply in
            "ok: v\(reply.version)"
        }
    }

    /// Moves `player`'s home to `region`; the reply has the transfer as it ended, or a refusal.
    package distributed func transfer(token: String, player: UUID, to region: String) async throws -> Meridian_Transfer_V1_TransferReply {
        try await act(token, "player.transfer", target: "\(player.uuidString.lowercased()) → \(region)") {
            do {
                let record = try await identity.transfer(player: player, to: region, timeout: .seconds(300))
                return .with { $0.status = TransferCoordinator.status(record) }
            } catch let refusal as IdentityRefusal {
                return .with { $0.refusal = refusal.message }
            }
        } describe: { reply in
            switch reply.result {
            case .status(let status): "ok: \(status.step)"
            case .refusal(let refusal): "refused: \(refusal)"
            case nil: "failed: empty reply"
            }
        }
    }

    /// Replaces this node's emulated link faults: traffic with the named nodes and regions stops
    /// (held, as a cut-off TCP path would), and the traffic to a node gets extra delay. For
    /// clusters that emulate their links on one machine (a topology with `latency_ms`), as
    /// `meridian chaos` runs them; a node without link emulation refuses.
    package distributed func setLinkFaults(
        token: String, partitionedNodes: [String], partitionedRegions: [String], extraDelayMilliseconds: [String: Int64]
    ) async throws {
        let target = "nodes [\(partitionedNodes.sorted().joined(separator: ","))] regions [\(partitionedRegions.sorted().joined(separator: ","))] delays \(extraDelayMilliseconds.sorted { $0.key < $1.key })"
        try await act(token, "chaos.link_faults", target: target) {
            guard let emulation = actorSystem.linkEmulation else {
                throw LinkFaultsUnavailable(node: actorSystem.nodeID)
            }
            emulation.replaceFaults(LinkEmulation.Faults(
                partitionedNodes: Set(partitionedNodes), partitionedRegions: Set(partitionedRegions),
                extraDelay: extraDelayMilliseconds.mapValues { .milliseconds($0) }
            ))
        }
    }

    /// Checks `token` (an operator's), runs `body` as this node and records the action.
    private func act<T: Sendable>(
        _ token: String, _ action: String, target: String, _ body: () async throws -> T, describe: (T) -> String = { _ in "ok" }
    ) async throws -> T {
        let principal: AdminPrincipal
        switch tokens.authorize(token, as: .operator) {
        case .granted(let granted):
            principal = granted
        case .unknownToken:
            logger.notice("admin action refused: unknown token", metadata: ["meridian.audit.action": "\(action)", "meridian.audit.target": "\(target)"])
            throw ClusterError(.forbidden, "\(action) needs an operator's admin token; this node does not know the one given")
        case .insufficientRole(let holder):
            await audit.record(holder, action: action, target: target, result: "refused: a \(holder.role.rawValue) token")
            throw ClusterError(.forbidden, "\(holder.name) is a \(holder.role.rawValue); \(action) needs an operator")
        }
        do {
            // Acts as the node: the functions behind the gate take no call from a tool.
            let result = try await ClusterSystem.$caller.withValue(nil) { try await body() }
            await audit.record(principal, action: action, target: target, result: describe(result))
            return result
        } catch {
            await audit.record(principal, action: action, target: target, result: "failed: \(error)")
            throw error
        }
    }
}

/// ``AdminGate/setLinkFaults(token:partitionedNodes:partitionedRegions:extraDelayMilliseconds:)``
/// on a node whose links are real.
struct LinkFaultsUnavailable: Error, CustomStringConvertible {
    var node: String
    var description: String {
        "\(node) does not emulate its links (its topology has no latency_ms): link faults can only be set on a local emulated cluster"
    }
}
