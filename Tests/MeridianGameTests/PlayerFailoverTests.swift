import Distributed
import Foundation
import MeridianCluster
import MeridianMembership
import MeridianRegion
import MeridianStorage
import MeridianTestSupport
import MeridianTopology
import MeridianTransport
import Testing

/// Player actors fail over in a region whose nodes share one PostgreSQL database: when the node
/// serving a player is declared down, the next node takes the player over, and the store's
/// activation fence keeps the old node — cut off, not dead — from writing for the player again.
@Suite struct PlayerFailoverTests {
    @Test(.enabled(if: TestPostgres.url != nil))
    func aPlayerMovesOffANodeDeclaredDownAndItsOldActorCannotWrite() async throws {
        try await TestPostgres.withDatabase { database in try await GameTestCluster.with(
            options: .init(emulateLinks: true, storage: ["eu-west": TestPostgres.storageURL(database)])
        ) { cluster in
            let player = try await cluster.createPlayer("mover", home: "eu-west", via: "us-east-1")
            let first = cluster.homeNode(of: player, region: "eu-west")
            let second = first == "eu-west-1" ? "eu-west-2" : "eu-west-1"
            let observer = try #require(cluster.node("us-east-1")).system
            #expect(observer.playerOwner(of: player, region: "eu-west", topology: cluster.topology) == first)

            _ = try await cluster.home(of: player, region: "eu-west", via: "us-east-1").grant(item: "gold", count: 10, idempotencyKey: "before")
            // The actor that wrote it, on its own node: kept to try a write after the takeover.
            let firstSystem = try #require(cluster.node(first)).system
            let oldActor = try PlayerHome.resolve(id: ClusterActorID(node: first, incarnation: 0, path: PlayerPlacement.path(of: player)), using: firstSystem)

            // Cut the first node off from everyone, both ways: it keeps running (a long pause, a
            // lost link) while the others declare it down.
            let ids = cluster.topology.nodes.map(\.id)
            cluster.partition([first], true)
            for id in ids where id != first {
                try await cluster.node(id)!.system.membership.waitUntil(timeout: .seconds(60)) { members in
                    members.contains { $0.id.node == first && $0.status.isTerminal }
                }
            }
            let owner = observer.playerOwner(of: player, region: "eu-west", topology: cluster.topology)
            #expect(owner == second)

            // The player is served by the second node now, with everything written before.
            let moved = try cluster.home(of: player, region: "eu-west", via: "us-east-1")
            #expect(moved.id.node == second)
            let after = try await moved.grant(item: "gold", count: 5, idempotencyKey: "after")
            #expect(after.balancesAfter["gold"] == 15)

            // The old actor still runs on the cut-off node but may not write any more.
            do {
                _ = try await oldActor.grant(item: "gold", count: 100, idempotencyKey: "from-the-old-node")
                Issue.record("the deposed actor on \(first) wrote for the player")
            } catch let error as StorageError {
                guard case .activationLost = error.code else {
                    Issue.record("refused for another reason: \(error)")
                    return
                }
            }
            let view = try await moved.view()
            #expect(view.balances["gold"] == 15)

            // A trade from another region reaches the player where it is served now: the giver's
            // trade relay follows the cluster's view of the player's node, not the topology's
            // first choice (the cut-off node, which it could not reach until the link healed).
            let giver = try await cluster.createPlayer("giver", home: "us-east", via: "us-east-1")
            let giverHome = try cluster.home(of: giver, region: "us-east", via: "us-east-1")
            _ = try await giverHome.grant(item: "gold", count: 10, idempotencyKey: "giver-funds")
            _ = try await giverHome.trade(tradeID: UUID(), to: player, receiverRegion: "eu-west", items: ["gold": 3])
            try await cluster.eventually("the trade reaches the player on \(second)") {
                try await moved.view().balances["gold"] == 18
            }
            // A repeat of a write made before the takeover is still a replay where the player lives now.
            let replay = try await moved.grant(item: "gold", count: 10, idempotencyKey: "before")
            #expect(replay.replayed)
            #expect(replay.balancesAfter["gold"] == 10)
        } }
    }

    /// A deposed actor on the node that serves the player again hands over to a fresh instance
    /// at once. It used to refuse every call ("retry when membership settles") for as long as
    /// callers kept finding it — which kept it from ever going idle and being passivated (a
    /// 20-minute PostgreSQL chaos run: two bots' homes unreadable with every node up again).
    @Test func aDeposedActorOnTheNodeThatServesThePlayerAgainHandsOverToAFreshOne() async throws {
        try await GameTestCluster.with { cluster in
            let player = try await cluster.createPlayer("returner", home: "eu-west", via: "us-east-1")
            let node = cluster.homeNode(of: player, region: "eu-west")
            let home = try cluster.home(of: player, region: "eu-west", via: "us-east-1")
            _ = try await home.grant(item: "gold", count: 10, idempotencyKey: "first")

            // Another node takes the player over in the store, as a failover does, and gives way
            // again (this node is the player's node by everyone's view throughout). The actor
            // learns it at its next write, here called on its own node.
            _ = try await #require(cluster.node(node)).region.store.claimActivation(of: player, node: "elsewhere")
            do {
                _ = try await cluster.home(of: player, region: "eu-west", via: node).grant(item: "gold", count: 5, idempotencyKey: "refused")
                Issue.record("a write with a lost activation was accepted")
            } catch let error as StorageError {
                guard case .activationLost = error.code else {
                    Issue.record("refused for another reason: \(error)")
                    return
                }
            }

            // The deposed actor lets a fresh one serve the next call (from another node here): it
            // reads, writes (claiming the player anew) and knows every earlier write.
            #expect(try await home.view().balances["gold"] == 10)
            let after = try await home.grant(item: "gold", count: 5, idempotencyKey: "after")
            #expect(after.balancesAfter["gold"] == 15)
            let replay = try await home.grant(item: "gold", count: 10, idempotencyKey: "first")
            #expect(replay.replayed)
            #expect(try await home.view().balances["gold"] == 15)
        }
    }
}
