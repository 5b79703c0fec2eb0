import Distributed
import Foundation
import MeridianClock
import MeridianCluster
import MeridianMatchmaking
import MeridianRegion
import MeridianTestSupport
import Testing

/// A node keeps the player actors in use, not every player that ever came by: an idle player
/// nobody watches is passivated, and nothing the player owns goes with it.
@Suite("Player actors passivate when idle", .serialized)
struct PlayerPassivationTests {
    /// The player's actor instance on its home node (resolving it there counts as a use).
    private func instance(of player: UUID, in cluster: GameTestCluster) throws -> PlayerHome {
        try cluster.home(of: player, region: "eu-west", via: cluster.homeNode(of: player, region: "eu-west"))
    }

    /// Moves the cluster's clock past the passivation timeout of the actors on the player's
    /// home node (they go unused meanwhile), then sweeps.
    private func idle(_ player: UUID, in cluster: GameTestCluster) async throws {
        let clock = try #require(cluster.options.clock, "a passivation test steps a manual clock")
        clock.advance(by: cluster.passivatePlayersAfter * 3)
        await cluster.node(cluster.homeNode(of: player, region: "eu-west"))!.system.passivateIdleActors()
    }

    @Test func anIdlePlayerGoesAndComesBackWithItsData() async throws {
        try await GameTestCluster.with(passivatePlayersAfter: .seconds(100), options: .init(clock: ManualClock())) { cluster in
            let player = try await cluster.createPlayer("idle", home: "eu-west")
            _ = try await cluster.home(of: player, region: "eu-west").grant(item: "gold", count: 5, idempotencyKey: "g1")
            let first = try instance(of: player, in: cluster)

            try await idle(player, in: cluster)
            let second = try instance(of: player, in: cluster)
            #expect(second !== first, "the idle player's actor was passivated; the lookup activated a new one")
            #expect(try await second.view().balances["gold"] == 5)
            // The write path works on the new instance (it reads the player's epoch again).
            _ = try await second.grant(item: "gold", count: 1, idempotencyKey: "g2")
            #expect(try await cluster.home(of: player, region: "eu-west").view().balances["gold"] == 6)
        }
    }

    /// A caller that still holds the passivated instance changes the session of the live one.
    @Test func aHeldInstanceHandsSessionCallsToItsSuccessor() async throws {
        try await GameTestCluster.with(passivatePlayersAfter: .seconds(100), options: .init(clock: ManualClock())) { cluster in
            let player = try await cluster.createPlayer("held", home: "eu-west")
            let held = try instance(of: player, in: cluster)
            try await idle(player, in: cluster)

            let ticket = QueueTicket(id: UUID(), members: [.init(player: player, homeRegion: "eu-west")], rttMilliseconds: [:])
            _ = try await held.beginQueue(ticket: ticket, region: "eu-west")
            let live = try instance(of: player, in: cluster)
            #expect(live !== held)
            guard case .queued(let queued, _) = try await live.currentSession() else {
                Issue.record("the live instance did not get the queue")
                return
            }
            #expect(queued.id == ticket.id)
            #expect(try await held.currentSession() == live.currentSession())

            // Queued: stays however long it waits.
            try await idle(player, in: cluster)
            #expect(try instance(of: player, in: cluster) === live)
            #expect(try await held.endQueue(ticketID: ticket.id))
            #expect(try await live.currentSession() == .idle)
        }
    }

    /// Passivation running all the time (a 1 ms timeout and a sweeper in a loop) while the
    /// player queues, leaves the queue and receives grants through a held instance and through
    /// fresh lookups: every session change lands on the live instance and every grant once.
    @Test func sessionAndDataSurviveConstantPassivation() async throws {
        try await GameTestCluster.with(passivatePlayersAfter: .milliseconds(1)) { cluster in
            let player = try await cluster.createPlayer("churn", home: "eu-west")
            let system = try #require(cluster.node(cluster.homeNode(of: player, region: "eu-west"))?.system)
            let held = try instance(of: player, in: cluster)
            let sweeper = Task {
                var passivated = 0
                while !Task.isCancelled {
                    passivated += await system.passivateIdleActors()
                    try? await Task.sleep(for: .milliseconds(1))
                }
                return passivated
            }
            for round in 0..<60 {
                let home = round.isMultiple(of: 2) ? held : try instance(of: player, in: cluster)
                let ticket = QueueTicket(id: UUID(), members: [.init(player: player, homeRegion: "eu-west")], rttMilliseconds: [:])
                _ = try await home.beginQueue(ticket: ticket, region: "eu-west")
                try await Task.sleep(for: .milliseconds(round % 7))
                guard case .queued(let queued, _) = try await instance(of: player, in: cluster).currentSession() else {
                    Issue.record("round \(round): the live instance lost the queue")
                    return
                }
                #expect(queued.id == ticket.id)
                #expect(try await home.endQueue(ticketID: ticket.id), "round \(round)")
                _ = try await home.grant(item: "gold", count: 1, idempotencyKey: "churn-\(round)")
            }
            #expect(try await instance(of: player, in: cluster).currentSession() == .idle)
            #expect(try await instance(of: player, in: cluster).view().balances["gold"] == 60)
            sweeper.cancel()
            #expect(await sweeper.value > 10, "the player's actor was passivated again and again meanwhile")
        }
    }

    /// A player whose connection is open (a live listener) stays; once the connection says it
    /// closed, or its node is down, the idle player goes.
    @Test func aWatchedPlayerStaysUntilItsListenerIsGone() async throws {
        try await GameTestCluster.with(passivatePlayersAfter: .seconds(100), options: .init(clock: ManualClock())) { cluster in
            let player = try await cluster.createPlayer("watched", home: "eu-west")
            let homeNode = cluster.homeNode(of: player, region: "eu-west")
            let gatewayNodeFound = cluster.all.map(\.system.nodeID).sorted().first { $0 != homeNode }
            let gatewayNode = try #require(gatewayNodeFound)

            // A listener on the same node, unwatched when the connection closes.
            let local = SessionListener(actorSystem: cluster.node(homeNode)!.system) { _, _ in }
            let watched = try instance(of: player, in: cluster)
            _ = try await watched.watchSession(listener: local.id)
            try await idle(player, in: cluster)
            #expect(try instance(of: player, in: cluster) === watched)
            try await watched.unwatchSession(listener: local.id)
            try await idle(player, in: cluster)
            let unwatched = try instance(of: player, in: cluster)
            #expect(unwatched !== watched)

            // A listener on another node, which then crashes without unwatching.
            let remote = SessionListener(actorSystem: cluster.node(gatewayNode)!.system) { _, _ in }
            _ = try await unwatched.watchSession(listener: remote.id)
            try await idle(player, in: cluster)
            #expect(try instance(of: player, in: cluster) === unwatched)
            await cluster.kill(gatewayNode)
            let system = cluster.node(homeNode)!.system
            try await cluster.eventually("the home node sees the listener's node down") { !system.mayBeAlive(remote.id) }
            try await idle(player, in: cluster)
            #expect(try instance(of: player, in: cluster) !== unwatched)
            _ = local
        }
    }
}
