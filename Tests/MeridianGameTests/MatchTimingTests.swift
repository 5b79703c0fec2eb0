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
/// (The time limit only catches a hang. It counts from the test's start, so it includes the
/// wait for one of the process's ``ClusterSlots``: under a sanitizer the suites share one slot
/// and a test can wait for most of the run — over 5 minutes in an ASan run on a loaded machine,
/// which failed this suite without any hang. 20 minutes stays above any such wait.)
@Suite("Match timing on a stepped clock", .serialized, .timeLimit(.minutes(20)))
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
            var stepper = FeedStepper(feed: events.makeAsyncIterator(), clock: clock, rules: rules)
            #expect(await stepper.nextPhase() == "lobby")  // once per subscribe call

            // LOBBY → COUNTDOWN at the lobby wait, COUNTDOWN → ACTIVE at the countdown.
            clock.advance(by: rules.lobbyWait - .milliseconds(1))
            #expect(try await match.status().phase == "lobby")
            clock.advance(by: .milliseconds(1))
            #expect(await stepper.nextPhase(after: "lobby") == "countdown")
            clock.advance(by: rules.countdown - .milliseconds(1))
            #expect(try await match.status().phase == "countdown")
            clock.advance(by: .milliseconds(1))
            #expect(await stepper.nextPhase(after: "countdown") == "active")

            // One tick per tick interval: each step of the clock brings the next frame.
            await stepper.runToEnd()
            // The time limit is 1 s of ticks: the match ran exactly that many, one per step.
            #expect(stepper.ticks == Array(1...UInt32(rules.tickRate)))
            #expect(stepper.steps == rules.tickRate)
            #expect(stepper.phases == ["postgame", "closed"])
            #expect(stepper.resultsFor == [a, b])
            for (player, home) in [(a, "us-east"), (b, "eu-west")] {
                let history = try await cluster.home(of: player, region: home).recentMatches(limit: 5)
                #expect(history.map(\.outcome) == ["draw"], "\(player)")
            }
        }
    }

    /// A seated player whose connection dropped is waited for after the lobby wait: coming
    /// back a millisecond before the window closes starts the countdown at once (an event, not
    /// a poll).
    @Test func aSeatThatReconnectsWithinTheLobbyWindowStartsTheCountdown() async throws {
        let clock = ManualClock()
        var rules = GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2)
        rules.lobbyWait = .seconds(5)
        try await GameTestCluster.with(rules: rules, options: .init(clock: clock)) { cluster in
            let lobby = try await openLobbyWithADroppedSeat(in: cluster)
            let match = lobby.match
            var stepper = FeedStepper(feed: lobby.feed, clock: clock, rules: rules)
            clock.advance(by: rules.lobbyWait + .seconds(30) - .milliseconds(1))
            #expect(try await match.status().phase == "lobby")
            try await match.reconnect(player: lobby.dropped)
            #expect(await stepper.nextPhase(after: "lobby") == "countdown")
        }
    }

    /// ... and not coming back closes the lobby when the window is over, not a millisecond before.
    @Test func aSeatThatNeverReconnectsClosesTheLobbyAtTheEndOfItsWindow() async throws {
        let clock = ManualClock()
        var rules = GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2)
        rules.lobbyWait = .seconds(5)
        try await GameTestCluster.with(rules: rules, options: .init(clock: clock)) { cluster in
            let lobby = try await openLobbyWithADroppedSeat(in: cluster)
            let match = lobby.match
            var stepper = FeedStepper(feed: lobby.feed, clock: clock, rules: rules)
            clock.advance(by: rules.lobbyWait)
            clock.advance(by: .seconds(30) - .milliseconds(1))
            #expect(try await match.status().phase == "lobby")
            clock.advance(by: .milliseconds(1))
            #expect(await stepper.nextPhase(after: "lobby") == "closed")
        }
    }

    /// Handover draining on the clock: a node joins and the placement gives it a shard whose
    /// match still runs on the old owner. Half-way through the match neither owner takes a new
    /// one; the shard moves when the running match reaches its time limit.
    @Test func aShardMovesWhenItsRunningMatchReachesItsTimeLimit() async throws {
        let clock = ManualClock()
        var rules = GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2, timeLimitSeconds: 2)
        rules.lobbyWait = .seconds(1)
        rules.countdown = .seconds(1)
        try await GameTestCluster.with(
            rules: rules, shards: 8, nodes: ["eu-west-1", "us-east-1", "us-east-2"], options: .init(clock: clock)
        ) { cluster in
            let movingFound = (0..<8).first { ShardPlacement.owner(region: "eu-west", shard: $0, nodes: ["eu-west-1", "eu-west-2"]) == "eu-west-2" }
            let moving = try #require(movingFound)
            let a = try await cluster.createPlayer("a", home: "us-east")
            let b = try await cluster.createPlayer("b", home: "us-east")
            let client = try #require(cluster.node("us-east-1")).system
            @Sendable func spec() -> MatchSpec {
                let seats = [a, b].map { MatchSeat(player: $0, homeRegion: "us-east", skill: SkillRating(rating: 1500, deviation: 350, volatility: 0.06), ticketID: UUID()) }
                return MatchSpec(matchID: UUID(), region: "eu-west", shard: moving, seats: seats)
            }
            @Sendable func host(on node: String) throws -> ShardHost {
                try ShardHost.resolve(id: ClusterActorID(node: node, incarnation: 0, path: ShardHost.path(region: "eu-west", shard: moving)), using: client)
            }
            let running = try await host(on: "eu-west-1").startMatch(spec())
            #expect(running.node == "eu-west-1")
            let match = try cluster.node("us-east-1")!.game.match(running)
            let (events, eventsIn) = AsyncStream.makeStream(of: MatchFeedEvent.self)
            let subscriber = MatchSubscriber(actorSystem: client) { eventsIn.yield($0) }
            try await match.subscribe(player: a, subscriber: subscriber.id)
            var stepper = FeedStepper(feed: events.makeAsyncIterator(), clock: clock, rules: rules)

            try await cluster.start("eu-west-2")
            try await cluster.waitUntilUp(["eu-west-1", "eu-west-2", "us-east-1", "us-east-2"])

            clock.advance(by: rules.lobbyWait)
            #expect(await stepper.nextPhase(after: "lobby") == "countdown")
            clock.advance(by: rules.countdown)
            #expect(await stepper.nextPhase(after: "countdown") == "active")
            await stepper.step(ticks: rules.tickRate)  // half of the 2 s time limit

            // Draining: the old owner takes no new match on the shard, the new one waits for it.
            do {
                _ = try await host(on: "eu-west-1").startMatch(spec())
                Issue.record("the old owner started a match on a shard that moved away")
            } catch {
                #expect("\(error)".contains("notShardOwner"), "\(error)")
            }
            do {
                _ = try await host(on: "eu-west-2").startMatch(spec())
                Issue.record("the new owner started a match while the old owner still ran one")
            } catch {
                #expect("\(error)".contains("shardHandover"), "\(error)")
            }
            #expect(try await match.status().phase == "active")

            await stepper.runToEnd()
            #expect(stepper.ticks.count == 2 * rules.tickRate)
            let next: MatchAssignment = try await cluster.eventuallyValue("the new owner serves the shard") {
                try? await host(on: "eu-west-2").startMatch(spec())
            }
            #expect(next.node == "eu-west-2")
            let history = try await cluster.home(of: a, region: "us-east").recentMatches(limit: 5)
            let value2 = history.contains { $0.matchID == running.matchID && $0.outcome == "draw" }
            #expect(value2)
        }
    }

    /// A 2-seat lobby: one player subscribed (its feed's first "lobby" event read), the other's
    /// connection dropped. The subscriber lives as long as this value (actors are held weakly).
    struct LobbyWithADroppedSeat {
        let match: MatchActor
        let subscriber: MatchSubscriber
        let feed: AsyncStream<MatchFeedEvent>.Iterator
        let dropped: UUID
    }

    private func openLobbyWithADroppedSeat(in cluster: GameTestCluster) async throws -> LobbyWithADroppedSeat {
        let a = try await cluster.createPlayer("a", home: "us-east")
        let b = try await cluster.createPlayer("b", home: "eu-west")
        let gateway = try #require(cluster.node("us-east-1"))
        let match = try await startMatch(of: [(a, "us-east"), (b, "eu-west")], in: cluster, via: gateway.system)
        let (events, eventsIn) = AsyncStream.makeStream(of: MatchFeedEvent.self)
        let subscriber = MatchSubscriber(actorSystem: gateway.system) { eventsIn.yield($0) }
        try await match.subscribe(player: a, subscriber: subscriber.id)
        var feed = events.makeAsyncIterator()
        let value3 = await feed.next().map { if case .phase(_, let phase, _) = $0 { phase } else { "" } }
        #expect(value3 == "lobby")
        try await match.disconnect(player: b)
        return LobbyWithADroppedSeat(match: match, subscriber: subscriber, feed: feed, dropped: b)
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

}

/// Steps a match's clock one tick interval at a time, each step awaiting the frame it brings,
/// and keeps what the feed told on the way.
struct FeedStepper {
    var feed: AsyncStream<MatchFeedEvent>.Iterator
    let clock: ManualClock
    let rules: GameRules
    private(set) var ticks: [UInt32] = []
    private(set) var steps = 0
    private(set) var phases: [String] = []
    private(set) var resultsFor: Set<UUID> = []
    private(set) var ended = false

    init(feed: AsyncStream<MatchFeedEvent>.Iterator, clock: ManualClock, rules: GameRules) {
        self.feed = feed
        self.clock = clock
        self.rules = rules
    }

    var interval: Duration { .seconds(1) / rules.tickRate }

    /// The next phase event other than `previous` (a repeat of it), skipping frames.
    mutating func nextPhase(after previous: String? = nil) async -> String? {
        while let event = await feed.next() {
            if case .phase(_, let phase, _) = event, phase != previous { return phase }
        }
        return nil
    }

    /// Advances `count` tick intervals, each once the previous one's frame arrived.
    mutating func step(ticks count: Int) async {
        let target = ticks.count + count
        await run { $0.ticks.count >= target }
    }

    /// Steps until the match ended and every tick of its time limit was seen (frames and
    /// reliable events travel separately: the last frame may come after the end).
    mutating func runToEnd() async {
        let total = rules.timeLimitSeconds * rules.tickRate
        await run { $0.ended && $0.ticks.count >= total }
    }

    private mutating func run(until done: (Self) -> Bool) async {
        let total = rules.timeLimitSeconds * rules.tickRate
        var awaitingFrame = false
        while !done(self) {
            if !awaitingFrame, ticks.count < total {
                clock.advance(by: interval)
                steps += 1
                awaitingFrame = true
            }
            guard let event = await feed.next() else { return }
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
    }
}
