import Distributed
import Foundation
import MeridianClock
import MeridianCluster
import MeridianGame
import MeridianMatchmaking
import MeridianRegion
import MeridianTestSupport
import Testing

@Suite("Matches over the cluster", .serialized)
struct MatchFlowTests {
    /// Four players from two regions queue in eu-west; a match forms on an eu-west shard, runs
    /// to its time limit, and every player's home region records the result exactly once.
    @Test func matchRunsAndResultsReachEveryHomeOnce() async throws {
        try await GameTestCluster.with(rules: GameTestCluster.fastRules(minPlayers: 4, maxPlayers: 4)) { cluster in
            let homes = ["eu-west", "eu-west", "us-east", "us-east"]
            var created: [UUID] = []
            for (index, home) in homes.enumerated() { created.append(try await cluster.createPlayer("p\(index)", home: home)) }
            let players = created
            let front = try cluster.front(via: "us-east-1")
            // A party of two (leader first, the member joined by consent) and two solo players.
            try await cluster.formParty(leader: players[0], members: [(players[2], "us-east")])
            let party = QueueTicket(
                id: UUID(), members: [.init(player: players[0], homeRegion: "eu-west"), .init(player: players[2], homeRegion: "us-east")],
                rttMilliseconds: ["eu-west": 10, "us-east": 60]
            )
            _ = try await front.queue(party, region: "eu-west")
            _ = try await front.queue(solo(players[1], home: "eu-west"), region: "eu-west")
            _ = try await front.queue(solo(players[3], home: "us-east"), region: "eu-west")

            // Everyone is seated in the same match on an eu-west node.
            let assignment: MatchAssignment = try await cluster.eventuallyValue("all four players are in one match") {
                var matches: [UUID: MatchAssignment] = [:]
                for (player, home) in zip(players, homes) {
                    guard case .inMatch(let match) = try await cluster.home(of: player, region: home).currentSession() else { return nil }
                    matches[match.matchID] = match
                }
                return matches.count == 1 ? matches.values.first : nil
            }
            #expect(assignment.region == "eu-west")
            #expect(assignment.node.hasPrefix("eu-west"))

            // The match ends at its time limit (idle players: all survive → a draw for all).
            try await cluster.eventually("every player has one match in their history and is idle again") {
                for (player, home) in zip(players, homes) {
                    let home = try cluster.home(of: player, region: home)
                    guard try await home.currentSession() == .idle, try await home.recentMatches(limit: 10).count == 1 else { return false }
                }
                return true
            }
            let rules = cluster.rules
            for (player, home) in zip(players, homes) {
                let actor = try cluster.home(of: player, region: home)
                let history = try await actor.recentMatches(limit: 10)
                #expect(history.map(\.outcome) == ["draw"])
                #expect(history.first?.matchID == assignment.matchID)
                let view = try await actor.view()
                #expect(view.balances[rules.rewardItem] == rules.playReward)
                #expect(view.xp == rules.playXP)
                #expect(view.skill.deviation < 350, "the rating became more certain after a rated match: \(view.skill)")

                // The same result delivered again (a retry) changes nothing.
                let replay = MatchResultMessage(
                    matchID: assignment.matchID, player: player, outcome: "draw", placement: 0, xp: rules.playXP,
                    rewards: [rules.rewardItem: rules.playReward], skillAfter: nil, finishedAt: Date()
                )
                let receipt = try await actor.applyMatchResult(replay)
                #expect(receipt.replayed)
                let after = try await actor.view()
                #expect(after.balances == view.balances)
                #expect(after.xp == view.xp)
            }
        }
    }

    /// A player leaves a match still in its lobby, leaving fewer seats than the minimum: the
    /// lobby closes when its wait is over (not 30 s later, as for seated players who are slow to
    /// connect) and the player who stayed is free again, with nothing paid for the match.
    @Test func aLobbyThatCanNoLongerFillClosesAtItsWait() async throws {
        var rules = GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2)
        rules.lobbyWait = .seconds(2)
        try await GameTestCluster.with(rules: rules) { cluster in
            let (players, assignment) = try await cluster.matchSoloPlayers(homes: ["eu-west", "eu-west"], via: "eu-west-1")
            let (a, b) = (players[0], players[1])
            let match = try cluster.node("eu-west-1")!.game.match(assignment)
            #expect(try await match.status().phase == "lobby")
            try await match.leave(player: b)

            try await cluster.eventually("a is idle again well before the 30 s a slow seat would get", timeout: .seconds(15)) {
                try await cluster.home(of: a, region: "eu-west").currentSession() == .idle
            }
            let view = try await cluster.home(of: a, region: "eu-west").view()
            #expect(view.balances[cluster.rules.rewardItem, default: 0] == 0)
        }
    }

    /// Every player leaves a running match: with no seat left it ends at once (not at its
    /// 10-minute time limit), each player's home records the abandoned match and frees the
    /// player, and the shard no longer holds the match.
    @Test func aMatchLeftByEveryPlayerEndsAndReleasesItsShard() async throws {
        try await GameTestCluster.with(rules: GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2, timeLimitSeconds: 600)) { cluster in
            let (players, assignment) = try await cluster.matchSoloPlayers(homes: ["eu-west", "eu-west"], via: "eu-west-1")
            let (a, b) = (players[0], players[1])
            let match = try cluster.node("eu-west-1")!.game.match(assignment)
            try await cluster.eventually("the match runs") { try await match.status().phase == "active" }
            let shard = try ShardHost.resolve(
                id: ClusterActorID(node: assignment.node, incarnation: 0, path: ShardHost.path(region: assignment.region, shard: assignment.shard)),
                using: cluster.node("eu-west-1")!.system
            )
            #expect(try await shard.runningMatches().contains(assignment.matchID))

            try await match.leave(player: a)
            try await match.leave(player: b)

            try await cluster.eventually("the shard released the match") { try await !shard.runningMatches().contains(assignment.matchID) }
            for player in [a, b] {
                try await cluster.eventually("\(player) is idle with the abandoned match in its history") {
                    let home = try cluster.home(of: player, region: "eu-west")
                    guard try await home.currentSession() == .idle else { return false }
                    return try await home.recentMatches(limit: 5).map(\.outcome) == ["abandoned"]
                }
            }
        }
    }

    /// A seat on a node incarnation already declared down when the assignment arrives (the
    /// game layer's pass on that change looked before the seat was recorded) ends at once with
    /// a `server_lost` result: no player waits on a match nobody will end.
    @Test func aSeatOnANodeAlreadyDownEndsAtOnceAsServerLost() async throws {
        let clock = ManualClock()  // never advanced: nothing periodic can help
        try await GameTestCluster.with(options: .init(clock: clock)) { cluster in
            let player = try await cluster.createPlayer("late", home: "eu-west")
            let home = try cluster.home(of: player, region: "eu-west")
            let ticket = QueueTicket(id: UUID(), members: [.init(player: player, homeRegion: "eu-west")], rttMilliseconds: [:])
            _ = try await home.beginQueue(ticket: ticket, region: "eu-west")
            // eu-west-2's first incarnation: the node runs a later one, so that one is down.
            let match = MatchAssignment(matchID: UUID(), region: "eu-west", shard: 0, node: "eu-west-2", incarnation: 1)
            try await home.matchAssigned(ticketID: ticket.id, match: match)
            #expect(try await home.currentSession() == .idle)
            #expect(try await home.recentMatches(limit: 5).map(\.outcome) == ["server_lost"])
        }
    }

    /// A player seated in a match that no longer exists on its live node (the match gave up
    /// delivering the player's result, say) is freed by the slow sweep as `abandoned` — not
    /// before the match has been seen for longer than a match can run. Stepped on the clock.
    @Test func aPlayerInAMatchThatVanishedFromALiveNodeIsFreedByTheSweep() async throws {
        let clock = ManualClock()
        let rules = GameTestCluster.fastRules(timeLimitSeconds: 60)
        try await GameTestCluster.with(rules: rules, options: .init(clock: clock)) { cluster in
            let player = try await cluster.createPlayer("stranded", home: "eu-west")
            let home = try cluster.home(of: player, region: "eu-west")
            let ticket = QueueTicket(id: UUID(), members: [.init(player: player, homeRegion: "eu-west")], rttMilliseconds: [:])
            _ = try await home.beginQueue(ticket: ticket, region: "eu-west")
            let node = try #require(cluster.node("eu-west-2"))
            let match = MatchAssignment(matchID: UUID(), region: "eu-west", shard: 0, node: "eu-west-2", incarnation: node.system.incarnation)
            try await home.matchAssigned(ticketID: ticket.id, match: match)
            #expect(try await home.currentSession() == .inMatch(match))

            // Up to the longest a 60 s match can run, nobody asks and the player stays seated.
            let longest = Duration.seconds(60) + GameServices.longestMatchMargin
            var stepped = Duration.zero
            while stepped + GameServices.vanishedSweepInterval < longest {
                clock.advance(by: GameServices.vanishedSweepInterval)
                stepped += GameServices.vanishedSweepInterval
                #expect(try await home.currentSession() == .inMatch(match))
            }
            try await cluster.eventually("the sweep freed the player with an abandoned result") {
                clock.advance(by: GameServices.vanishedSweepInterval)
                guard try await home.currentSession() == .idle else { return false }
                return try await home.recentMatches(limit: 5).map(\.outcome) == ["abandoned"]
            }
        }
    }

    /// A node running a match is lost: its players get a "serverLost" result at home, are free
    /// to queue again, and the region's shards are served by the node that is left.
    @Test func lostNodeEndsItsMatchesAndItsShardsMove() async throws {
        try await GameTestCluster.with(rules: GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2, timeLimitSeconds: 600)) { cluster in
            // Players homed in us-east, playing in eu-west: their data survives an eu-west node's loss.
            let a = try await cluster.createPlayer("a", home: "us-east")
            let b = try await cluster.createPlayer("b", home: "us-east")
            let front = try cluster.front(via: "us-east-1")
            _ = try await front.queue(solo(a, home: "us-east"), region: "eu-west")
            _ = try await front.queue(solo(b, home: "us-east"), region: "eu-west")
            let lost: MatchAssignment = try await cluster.eventuallyValue("both players are in a match") {
                guard case .inMatch(let first) = try await cluster.home(of: a, region: "us-east").currentSession(),
                      case .inMatch(let second) = try await cluster.home(of: b, region: "us-east").currentSession()
                else { return nil }
                return first.matchID == second.matchID ? first : nil
            }
            await cluster.kill(lost.node)

            try await cluster.eventually("both players got a serverLost result and are idle") {
                for player in [a, b] {
                    let home = try cluster.home(of: player, region: "us-east")
                    guard try await home.currentSession() == .idle,
                          try await home.recentMatches(limit: 5).map(\.outcome) == ["server_lost"]
                    else { return false }
                }
                return true
            }
            // No reward for a lost match.
            #expect(try await cluster.home(of: a, region: "us-east").view().balances[cluster.rules.rewardItem] == nil)

            // They queue again and play on the node that is left, whatever shard the match lands on.
            let survivor = ["eu-west-1", "eu-west-2"].first { $0 != lost.node }!
            _ = try await front.queue(solo(a, home: "us-east"), region: "eu-west")
            _ = try await front.queue(solo(b, home: "us-east"), region: "eu-west")
            try await cluster.eventually("a new match runs on the surviving node") {
                guard case .inMatch(let again) = try await cluster.home(of: a, region: "us-east").currentSession() else { return false }
                return again.node == survivor && again.matchID != lost.matchID
            }
            let placement = cluster.node(survivor)!.game.placement
            #expect(placement.shards(of: survivor, in: "eu-west").count == placement.shardCount(of: "eu-west"))
        }
    }

    /// The matchmaker's node is lost: the matchmaker starts on the other node of the region and
    /// the waiting tickets are queued there again by their owners.
    @Test func matchmakerFailsOverAndTheQueueIsRebuilt() async throws {
        try await GameTestCluster.with(rules: GameTestCluster.fastRules(minPlayers: 3, maxPlayers: 3)) { cluster in
            let placement = cluster.node("us-east-1")!.game.placement
            let matchmakerNode = try #require(placement.matchmakerNode(region: "eu-west"))
            // Two players homed in us-east wait in eu-west (three are needed).
            let a = try await cluster.createPlayer("a", home: "us-east")
            let b = try await cluster.createPlayer("b", home: "us-east")
            let front = try cluster.front(via: "us-east-1")
            let ticketA = UUID()
            _ = try await front.queue(solo(a, home: "us-east", ticket: ticketA), region: "eu-west")
            _ = try await front.queue(solo(b, home: "us-east"), region: "eu-west")
            let before = try await front.ticketStatus(ticketID: ticketA, region: "eu-west")
            #expect(before.contains("need 3") || before.contains("3"), "status says why it waits: \(before)")

            await cluster.kill(matchmakerNode)
            let survivor = ["eu-west-1", "eu-west-2"].first { $0 != matchmakerNode }!
            try await cluster.eventually("the new matchmaker has both tickets") {
                guard placement.matchmakerNode(region: "eu-west") == survivor else { return false }
                return try await front.ticketStatus(ticketID: ticketA, region: "eu-west").contains("not queued") == false
            }
            // A third player completes the match at the new matchmaker.
            let c = try await cluster.createPlayer("c", home: "us-east")
            _ = try await front.queue(solo(c, home: "us-east"), region: "eu-west")
            try await cluster.eventually("all three are in a match on the survivor") {
                for player in [a, b, c] {
                    guard case .inMatch(let match) = try await cluster.home(of: player, region: "us-east").currentSession(),
                          match.node == survivor else { return false }
                }
                return true
            }
        }
    }
}
