import Distributed
import Foundation
import MeridianCluster
import MeridianGame
import MeridianMatchmaking
import MeridianMembership
import MeridianRegion
import MeridianTopology
import MeridianTransport
import MeridianTestSupport
import Testing

@Suite("Shard handover", .serialized)
struct ShardHandoverTests {
    /// A node joins and the placement gives it a shard that still runs a match on the old
    /// owner: the old owner takes no new match on it, the new owner takes none until the old
    /// match is over, then serves it.
    @Test func shardMovesOnlyAtAMatchBoundary() async throws {
        try await GameTestCluster.with(
            rules: GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2, timeLimitSeconds: 600), shards: 8,
            nodes: ["eu-west-1", "us-east-1", "us-east-2"]
        ) { cluster in
            let movingFound = (0..<8).first { ShardPlacement.owner(region: "eu-west", shard: $0, nodes: ["eu-west-1", "eu-west-2"]) == "eu-west-2" }
            let moving = try #require(movingFound)
            let a = try await cluster.createPlayer("a", home: "us-east")
            let b = try await cluster.createPlayer("b", home: "us-east")
            let seats = [a, b].map { MatchSeat(player: $0, homeRegion: "us-east", skill: SkillRating(rating: 1500, deviation: 350, volatility: 0.06), ticketID: UUID()) }
            let client = cluster.node("us-east-1")!.system
            @Sendable func host(on node: String) throws -> ShardHost {
                try ShardHost.resolve(id: ClusterActorID(node: node, incarnation: 0, path: ShardHost.path(region: "eu-west", shard: moving)), using: client)
            }
            let running = try await host(on: "eu-west-1").startMatch(MatchSpec(matchID: UUID(), region: "eu-west", shard: moving, seats: seats))
            #expect(running.node == "eu-west-1")

            try await cluster.start("eu-west-2")
            try await cluster.waitUntilUp(["eu-west-1", "eu-west-2", "us-east-1", "us-east-2"])

            // The old owner drains: no new match on the shard.
            await #expect(throws: (any Error).self) {
                _ = try await host(on: "eu-west-1").startMatch(MatchSpec(matchID: UUID(), region: "eu-west", shard: moving, seats: seats))
            }
            // The new owner waits for the running match.
            do {
                _ = try await host(on: "eu-west-2").startMatch(MatchSpec(matchID: UUID(), region: "eu-west", shard: moving, seats: seats))
                Issue.record("the new owner started a match while the old owner still ran one")
            } catch {
                #expect("\(error)".contains("shardHandover"), "refused for the handover: \(error)")
            }
            // The match ends (closed: both players get an "abandoned" result) and the shard is handed over.
            try await cluster.node("us-east-1")!.game.match(running).close()
            let next: MatchAssignment = try await cluster.eventuallyValue("the new owner serves the shard") {
                try await host(on: "eu-west-2").startMatch(MatchSpec(matchID: UUID(), region: "eu-west", shard: moving, seats: seats))
            }
            #expect(next.node == "eu-west-2")
            let history = try await cluster.home(of: a, region: "us-east").recentMatches(limit: 5)
            let value2 = history.contains { $0.matchID == running.matchID && $0.outcome == "abandoned" }
            #expect(value2)
        }
    }

    /// The old owner of a shard is suspected (a long pause, a lost link) but not yet declared
    /// down: it is out of the placement, so the shard is the other node's now — but it may well
    /// be alive and still running the shard's match. The new owner does not serve the shard
    /// while it cannot tell (before the fix it asked only the `up` nodes, and a suspect owner's
    /// match ran beside a new one: two owners of one shard).
    @Test func aSuspectedOwnerStillHoldsItsShard() async throws {
        try await GameTestCluster.with(
            rules: GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2, timeLimitSeconds: 600), shards: 8,
            options: .init(suspicionTimeout: .seconds(600), emulateLinks: true)
        ) { cluster in
            let owned = (0..<8).filter { ShardPlacement.owner(region: "eu-west", shard: $0, nodes: ["eu-west-1", "eu-west-2"]) == "eu-west-1" }
            let shard = try #require(owned.first)
            let players = [try await cluster.createPlayer("a", home: "us-east"), try await cluster.createPlayer("b", home: "us-east")]
            let seats = players.map { MatchSeat(player: $0, homeRegion: "us-east", skill: SkillRating(rating: 1500, deviation: 350, volatility: 0.06), ticketID: UUID()) }
            let client = try #require(cluster.node("eu-west-2")).system
            @Sendable func host(on node: String) throws -> ShardHost {
                try ShardHost.resolve(id: ClusterActorID(node: node, incarnation: 0, path: ShardHost.path(region: "eu-west", shard: shard)), using: client)
            }
            let running = try await host(on: "eu-west-1").startMatch(MatchSpec(matchID: UUID(), region: "eu-west", shard: shard, seats: seats))
            #expect(running.node == "eu-west-1")

            // Cut eu-west-1 off from everyone, both ways, until eu-west-2 suspects it.
            let ids = cluster.topology.nodes.map(\.id)
            cluster.partition(["eu-west-1"], true)
            try await client.membership.waitUntil(timeout: .seconds(30)) { members in
                members.contains { $0.id.node == "eu-west-1" && $0.status == .suspect }
            }
            #expect(cluster.node("eu-west-2")!.game.placement.shardOwner(region: "eu-west", shard: shard) == "eu-west-2")
            do {
                _ = try await host(on: "eu-west-2").startMatch(MatchSpec(matchID: UUID(), region: "eu-west", shard: shard, seats: seats))
                Issue.record("the new owner started a match while the suspected old owner may still run one")
            } catch {
                #expect("\(error)".contains("shardHandover"), "refused for the handover: \(error)")
            }

            // Healed: eu-west-1 refutes the suspicion and serves its shard again.
            cluster.partition(["eu-west-1"], false)
            try await cluster.waitUntilUp(ids)
            _ = try await host(on: "eu-west-1").startMatch(MatchSpec(matchID: UUID(), region: "eu-west", shard: shard, seats: seats))
        }
    }
}
