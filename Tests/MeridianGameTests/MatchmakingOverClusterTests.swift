import Distributed
import Foundation
import MeridianClock
import MeridianCluster
import MeridianGame
import MeridianMatchmaking
import MeridianRegion
import MeridianTestSupport
import Testing

@Suite("Matchmaking over the cluster", .serialized)
struct MatchmakingOverClusterTests {
    /// A match that formed below its maximum stays open in LOBBY; a player queued meanwhile is
    /// seated in it (backfill) instead of waiting for a new match.
    /// On a stepped clock: the lobby stays open (its wait is far off) however slow the machine
    /// is, so the third ticket is matched into it by the next matchmaker pass, never into a new match.
    @Test func lobbyIsBackfilled() async throws {
        let clock = ManualClock()
        var rules = GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 4, timeLimitSeconds: 30)
        rules.lobbyWait = .seconds(600)
        try await GameTestCluster.with(rules: rules, options: .init(clock: clock)) { cluster in
            let front = try cluster.front(via: "eu-west-1")
            var players: [UUID] = []
            for index in 0..<3 { players.append(try await cluster.createPlayer("p\(index)", home: "eu-west")) }
            let (a, b, c) = (players[0], players[1], players[2])
            _ = try await front.queue(solo(a, home: "eu-west"), region: "eu-west")
            _ = try await front.queue(solo(b, home: "eu-west"), region: "eu-west")
            let first = try await Self.stepUntilMatched(a, in: cluster, clock: clock)
            _ = try await front.queue(solo(c, home: "eu-west"), region: "eu-west")
            let third = try await Self.stepUntilMatched(c, in: cluster, clock: clock)
            #expect(third.matchID == first.matchID, "c joined the open lobby")
            let status = try await cluster.node("eu-west-1")!.game.match(first).status()
            #expect(status.players == 3)
            #expect(status.phase == "lobby")
        }
    }

    /// Advances the clock one matchmaker pass at a time until `player` (homed in eu-west) is in a match.
    static func stepUntilMatched(_ player: UUID, in cluster: GameTestCluster, clock: ManualClock) async throws -> MatchAssignment {
        for _ in 0..<600 {
            if case .inMatch(let match) = try await cluster.home(of: player, region: "eu-west").currentSession() { return match }
            clock.advance(by: .milliseconds(100))
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("\(player) was not matched after 600 passes")
        throw CancellationError()
    }

    /// A ticket that waits past the overflow bound moves to the nearest other region and is
    /// matched there with a player waiting in that region.
    @Test func ticketOverflowsToTheNearestRegion() async throws {
        var rules = GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2)
        rules.matchmaking.overflowAfter = .milliseconds(500)
        try await GameTestCluster.with(rules: rules) { cluster in
            let front = try cluster.front(via: "us-east-1")
            let lonely = try await cluster.createPlayer("lonely", home: "us-east")
            let waiting = try await cluster.createPlayer("waiting", home: "eu-west")
            // The eu-west player never overflows (no other region is acceptable to it).
            _ = try await front.queue(
                QueueTicket(id: UUID(), members: [.init(player: waiting, homeRegion: "eu-west")], rttMilliseconds: ["eu-west": 10], visitedRegions: ["us-east"]),
                region: "eu-west"
            )
            _ = try await front.queue(solo(lonely, home: "us-east", rtt: ["us-east": 10, "eu-west": 40]), region: "us-east")
            let match = try await cluster.match(of: lonely, home: "us-east", "the us-east ticket overflowed and was matched in eu-west")
            #expect(match.region == "eu-west")
            guard case .inMatch(let other) = try await cluster.home(of: waiting, region: "eu-west").currentSession() else {
                Issue.record("the eu-west player is not in a match")
                return
            }
            #expect(other.matchID == match.matchID)
        }
    }

    /// A player already queued cannot queue a second ticket; cancelling frees them.
    @Test func onePlayerOneTicket() async throws {
        try await GameTestCluster.with(rules: GameTestCluster.fastRules(minPlayers: 4, maxPlayers: 4)) { cluster in
            let front = try cluster.front(via: "eu-west-2")
            let player = try await cluster.createPlayer("p", home: "eu-west")
            let ticket = UUID()
            let status = try await front.queue(solo(player, home: "eu-west", ticket: ticket), region: "eu-west")
            #expect(!status.isEmpty)
            // The same ticket again is a no-op; a different one is refused by the player's actor.
            _ = try await front.queue(solo(player, home: "eu-west", ticket: ticket), region: "eu-west")
            await #expect(throws: (any Error).self) {
                _ = try await front.queue(solo(player, home: "eu-west"), region: "us-east")
            }
            #expect(try await front.cancel(ticketID: ticket, region: "eu-west"))
            #expect(try await cluster.home(of: player, region: "eu-west").currentSession() == .idle)
            #expect(try await front.ticketStatus(ticketID: ticket, region: "eu-west").contains("not queued"))
        }
    }

    /// Two nodes can disagree for a moment about which node runs a region's matchmaker (one has
    /// heard of a member joining or being suspected, the other not yet). A queue call that
    /// reaches a node that is not the matchmaker in its own view is refused there
    /// (`actorNotFound`) and sent again where the placement points, instead of failing the
    /// player's request.
    @Test func aCallToANodeThatIsNotTheMatchmakerFollowsThePlacement() async throws {
        try await GameTestCluster.with { cluster in
            let player = try await cluster.createPlayer("p", home: "eu-west")
            let game = try #require(cluster.node("us-east-1")).game
            let matchmakerNode = try #require(game.placement.matchmakerNode(region: "eu-west"))
            let other = matchmakerNode == "eu-west-1" ? "eu-west-2" : "eu-west-1"
            let ticket = solo(player, home: "eu-west")
            let system = try #require(cluster.node("us-east-1")).system
            // The node that is not the matchmaker refuses…
            let wrong = try Matchmaker.resolve(id: ClusterActorID(node: other, incarnation: 0, path: Matchmaker.path(region: "eu-west")), using: system)
            do {
                _ = try await wrong.enqueue(ticket)
                Issue.record("\(other) took a ticket though \(matchmakerNode) is the matchmaker")
            } catch let error as ClusterError {
                #expect(error.code == .actorNotFound)
            }
            // …and a call that reaches it first is sent on to the matchmaker.
            _ = try await game.withMatchmaker(of: "eu-west", startingAt: other) { try await $0.enqueue(ticket) }
            guard case .queued(let queued, let region) = try await cluster.home(of: player, region: "eu-west").currentSession() else {
                Issue.record("the player is not queued")
                return
            }
            #expect(queued.id == ticket.id)
            #expect(region == "eu-west")
        }
    }
}
