import Distributed
import Foundation
import Logging
import MeridianCluster
import MeridianRegion

/// One shard of a region, at `/shard/<region>/<n>` on the node the placement gives it to. It
/// starts matches on this node and tracks them.
///
/// Handover happens only at match boundaries: when the placement moves the shard away (a node
/// joined, or this node is leaving on purpose) the host stops taking matches (``State/draining``)
/// and finishes the running ones; the new owner's host waits (``State/awaitingHandover``) until
/// no other live node of the region still runs matches of the shard. A crashed owner holds
/// nothing, so the new owner serves at once; the crashed node's matches end as "server lost"
/// at their players' homes.
public distributed actor ShardHost {
    public typealias ActorSystem = ClusterSystem

    public enum State: String, Sendable {
        case awaitingHandover, serving, draining
    }

    public nonisolated static func path(region: String, shard: Int) -> String {
        "/shard/\(region)/\(shard)"
    }

    let region: String
    let shard: Int
    let game: GameServicesReference
    private(set) var state: State = .awaitingHandover
    private var matches: [UUID: MatchActor] = [:]

    init(region: String, shard: Int, game: GameServicesReference, actorSystem: ClusterSystem) {
        self.region = region
        self.shard = shard
        self.game = game
        self.actorSystem = actorSystem
    }

    /// Starts a match of `spec` on this node. Refused while the shard is handed over; the
    /// matchmaker then tries another shard.
    public distributed func startMatch(_ spec: MatchSpec) async throws -> MatchAssignment {
        guard let game = game.value else { throw GameError(.notShardOwner, "node \(actorSystem.nodeID) is shutting down") }
        guard game.placement.shardOwner(region: region, shard: shard) == actorSystem.nodeID, state != .draining else {
            state = .draining
            throw GameError(.notShardOwner, "shard \(region)/\(shard) is moving away from \(actorSystem.nodeID)")
        }
        if state == .awaitingHandover {
            guard try await !game.shardHeldElsewhere(region: region, shard: shard) else {
                throw GameError(.shardHandover, "shard \(region)/\(shard) waits for its previous owner to finish its matches")
            }
            state = .serving
        }
        if matches[spec.matchID] == nil {
            let match = try game.makeMatch(spec: spec, shard: self)
            matches[spec.matchID] = match
            // Open (seat the players, arm the lobby timer) before anyone learns of the match: a
            // player told where to play finds their seat there.
            do {
                try await match.whenLocal { try $0.open(with: spec.seats) }
            } catch {
                matches[spec.matchID] = nil
                throw error
            }
        }
        return MatchAssignment(matchID: spec.matchID, region: region, shard: shard, node: actorSystem.nodeID, incarnation: actorSystem.incarnation)
    }

    /// Whether this node still runs matches of the shard (asked by a new owner before it serves).
    public distributed func holdsMatches() -> Bool {
        !matches.isEmpty
    }

    public distributed func runningMatches() -> [UUID] {
        Array(matches.keys)
    }

    // MARK: Local

    func matchReleased(_ id: UUID) {
        matches[id] = nil
        if matches.isEmpty, state == .draining { game.value?.shardReleased(region: region, shard: shard, host: self) }
    }

    /// The placement moved the shard away: take no new matches; released after the last one.
    func drain() {
        state = .draining
        if matches.isEmpty { game.value?.shardReleased(region: region, shard: shard, host: self) }
    }

    func localMatches() -> [MatchActor] { Array(matches.values) }

    var isIdle: Bool { matches.isEmpty }
}
