import Distributed
import Foundation
import MeridianClock
import MeridianCluster
import MeridianGame
import MeridianMatchmaking
import MeridianRegion
import MeridianTestSupport
import MeridianTopology
import Testing

/// The match's timers and tick run on the node's clock: a test steps time and sees each
/// phase change exactly when its deadline is reached — not a millisecond before — without
/// waiting for it.
@Suite("Match timing on a stepped clock", .serialized, .timeLimit(.minutes(2)))
struct MatchTimingTests {
    @Test func lobbyCountdownTicksAndTimeLimitFollowTheClock() async throws {
        let clock = ManualClock()
        var rules = GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2, timeLimitSeconds: 1)
        // Long on purpose: on the wall clock this match would take 9 s; stepped, it takes none.
        rules.lobbyWait = .seconds(5)
        rules.countdown = .seconds(3)
        try await GameTestCluster.with(rules: rules, options: .init(clock: clock)) { cluster in
            let a = try await cluster.createPlayer("a", home: "us-east")
            let b = try await cluster.createPlayer("b", home: "eu-west")
            let gateway = try #require(cluster.node("us-east-1"))
            let match = try await startMatch(of: [(a, "us-east"), (b, "eu-west")], in: cluster, via: gateway.system)
            let (events, eventsIn) = AsyncStream.makeStream(of: MatchFeedEvent.self)
            let subscriber = MatchSubscriber(actorSystem: gateway.system) { eventsIn.yield($0) }
            try await match.subscribe(player: a, subscriber: subscriber.id)
            try await match.subscribe(player: b, subscriber: subscriber.id)
            var feed = events.makeAsyncIterator()
            #expect(await nextPhase(&feed) == "lobby")  // once per subscribe call

            // LOBBY → COUNTDOWN at the lobby wait, COUNTDOWN → ACTIVE at the countdown.
            clock.advance(by: rules.lobbyWait - .milliseconds(1))
            #expect(try await match.status().phase == "lobby")
            clock.advance(by: .milliseconds(1))
            #expect(await nextPhase(&feed, after: "lobby") == "countdown")
            clock.advance(by: rules.countdown - .milliseconds(1))
            #expect(try await match.status().phase == "countdown")
            clock.advance(by: .milliseconds(1))
            #expect(await nextPhase(&feed, after: "countdown") == "active")

            // One tick per tick interval: each step of the clock brings the next frame.
            let interval = Duration.seconds(1) / rules.tickRate
            var ticks: [UInt32] = []
            var steps = 0
            var phases: [String] = []
            var resultsFor: Set<UUID> = []
            var ended = false
            var awaitingFrame = false
            // Frames and reliable events travel separately: the last frame may come after the end.
            while !ended || ticks.count < rules.tickRate {
                if !awaitingFrame, ticks.count < rules.tickRate {
                    clock.advance(by: interval)
                    steps += 1
                    awaitingFrame = true
                }
                guard let event = await feed.next() else { break }
                switch event {
                case .frame(let frame):
                    ticks.append(frame.tick)
                    awaitingFrame = false
                case .phase(_, let phase, _):
                    phases.append(phase)
                case .results(_, let results):
                    resultsFor.formUnion(results.map(\.player))
                case .ended:
                    ended = true
                }
            }
            // The time limit is 1 s of ticks: the match ran exactly that many, one per step.
            #expect(ticks == Array(1...UInt32(rules.tickRate)))
            #expect(steps == rules.tickRate)
            #expect(phases == ["postgame", "closed"])
            #expect(resultsFor == [a, b])
            for (player, home) in [(a, "us-east"), (b, "eu-west")] {
                let history = try await cluster.home(of: player, region: home).recentMatches(limit: 5)
                #expect(history.map(\.outcome) == ["draw"], "\(player)")
            }
        }
    }

    /// Starts a match of `players` on eu-west's shard 0 where the placement puts it, as the
    /// matchmaker would, and returns it as seen from `system`.
    private func startMatch(of players: [(UUID, String)], in cluster: GameTestCluster, via system: ClusterSystem) async throws -> MatchActor {
        let seats = players.map {
            MatchSeat(player: $0.0, homeRegion: $0.1, skill: SkillRating(rating: 1500, deviation: 350, volatility: 0.06), ticketID: UUID())
        }
        let owner = try #require(ShardPlacement.owner(region: "eu-west", shard: 0, nodes: ["eu-west-1", "eu-west-2"]))
        let host = try ShardHost.resolve(id: ClusterActorID(node: owner, incarnation: 0, path: ShardHost.path(region: "eu-west", shard: 0)), using: system)
        let assignment = try await host.startMatch(MatchSpec(matchID: UUID(), region: "eu-west", shard: 0, seats: seats))
        return try MatchActor.resolve(
            id: ClusterActorID(node: assignment.node, incarnation: assignment.incarnation, path: MatchActor.path(of: assignment.matchID)), using: system
        )
    }

    /// The next phase event other than `previous` (a repeat of it), skipping frames.
    private func nextPhase(_ feed: inout AsyncStream<MatchFeedEvent>.Iterator, after previous: String? = nil) async -> String? {
        while let event = await feed.next() {
            if case .phase(_, let phase, _) = event, phase != previous { return phase }
        }
        return nil
    }
}
