import Foundation
import MeridianAdmin
import MeridianCluster
import MeridianGame
import MeridianIdentity
import MeridianMembership
import MeridianRegion
import MeridianStorage
import MeridianTopology

/// What the node's admin API and console show, asked of the cluster through this node's parts:
/// the member table is this node's view; figures, matches and queues come from every member
/// that answers within ``timeout`` (a node that does not is shown without them).
struct NodeAdminQueries: AdminQueries {
    let system: ClusterSystem
    let game: GameServices
    let identity: IdentityNode
    let timeout: Duration

    func notReadyReason() -> String? {
        let status = system.membership.myself.status
        return status == .up ? nil : "\(status.rawValue): not an up member of the cluster"
    }

    func cluster() async throws -> ClusterOverview {
        let members = system.membership.snapshot().sorted { ($0.region, $0.node) < ($1.region, $1.node) }
        let figures = await askEachUp(members) { front in try await front.overview() }
        let nodes = members.map { member in
            ClusterOverview.Node(
                node: member.node, region: member.region, state: member.state, incarnation: member.incarnation,
                figures: figures[member.node].map { stats in
                    NodeFigures(
                        topologyVersion: stats.topologyVersion, catalogVersion: stats.catalogVersion, onlineClients: stats.onlineClients,
                        matchesByPhase: stats.matchesByPhase, tickP99Microseconds: stats.tickP99Microseconds, queuedPlayers: stats.queuedPlayers,
                        residentBytes: stats.residentBytes, localActors: stats.localActors
                    )
                }
            )
        }
        return ClusterOverview(cluster: game.topology.cluster, servedBy: system.nodeID, nodes: nodes)
    }

    func matches() async throws -> [MatchOverview] {
        let members = system.membership.snapshot()
        let regions = Dictionary(members.map { ($0.node, $0.region) }, uniquingKeysWith: { first, _ in first })
        let byNode = await askEachUp(members) { front in try await front.localMatches() }
        return byNode.flatMap { node, matches in
            matches.map { match in
                MatchOverview(
                    matchID: match.matchID.uuidString.lowercased(), node: node, region: regions[node] ?? "", phase: match.phase, players: match.players,
                    connected: match.connected, alive: match.alive, tick: match.tick, outcome: match.outcome
                )
            }
        }
    }

    func queues() async throws -> [QueueOverview] {
        await withTaskGroup(of: QueueOverview.self) { group in
            for region in game.topology.regions.map(\.name) {
                group.addTask {
                    do {
                        let view = try await ClusterSystem.withCallTimeout(timeout) {
                            try await game.withMatchmaker(of: region) { try await $0.queueView(limit: 20) }
                        }
                        return QueueOverview(
                            region: region, error: nil, queuedTickets: view.queuedTickets, queuedPlayers: view.queuedPlayers, openLobbies: view.openLobbies,
                            tickets: view.tickets.map {
                                .init(
                                    ticketID: $0.ticketID.uuidString.lowercased(), players: $0.players, waitedMs: Int64(($0.waited / .milliseconds(1)).rounded()),
                                    window: $0.window, reason: $0.reason
                                )
                            }
                        )
                    } catch {
                        return QueueOverview(region: region, error: "\(error)", queuedTickets: 0, queuedPlayers: 0, openLobbies: 0, tickets: [])
                    }
                }
            }
            var queues: [QueueOverview] = []
            for await queue in group { queues.append(queue) }
            return queues.sorted { $0.region < $1.region }
        }
    }

    func player(_ id: UUID) async throws -> PlayerOverview? {
        try await ClusterSystem.withCallTimeout(timeout) {
            guard let entry = try await identity.entry(of: id) else { return nil }
            let home = try game.directory.home(of: id, region: entry.homeRegion)
            async let view = home.view()
            async let session = home.currentSession()
            async let matches = home.recentMatches(limit: 10)
            let transfer = try? await identity.latestTransfer(of: id)
            let (profile, current, recent) = try await (view, session, matches)
            return PlayerOverview(
                player: id.uuidString.lowercased(), homeRegion: entry.homeRegion, displayName: profile.displayName, banned: entry.state == .banned,
                session: current.summary, balances: profile.balances,
                recentMatches: recent.map { .init(matchID: $0.matchID.uuidString.lowercased(), outcome: $0.outcome, xp: $0.xp) },
                latestTransfer: transfer.flatMap { $0 }.map(Self.describe)
            )
        }
    }

    private static func describe(_ transfer: TransferRecord) -> String {
        var text = "\(transfer.from) → \(transfer.to): \(transfer.step.rawValue)"
        if let failure = transfer.failure { text += " (\(failure))" }
        return text
    }

    /// `call` on the game front of every member that is up or suspect, in parallel; members
    /// that fail or outlast ``timeout`` are left out.
    private func askEachUp<T: Sendable>(
        _ members: [MemberSnapshot], _ call: @escaping @Sendable (GameFront) async throws -> T
    ) async -> [String: T] {
        let up = members.filter { $0.state == "up" || $0.state == "suspect" }.map(\.node)
        return await system.askEach(up, at: GameFront.path, as: GameFront.self, timeout: timeout, call)
    }
}
