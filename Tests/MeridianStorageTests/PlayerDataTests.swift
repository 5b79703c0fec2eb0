import Foundation
import NIOCore
import Testing
@testable import MeridianStorage

@Suite struct PlayerDataTests {
    @Test(arguments: TestBackend.enabled)
    func createIsRetrySafeAndReadsBack(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let new = NewPlayer(id: PlayerID(), displayName: "Ada", homeRegion: "eu-west", epoch: 4, createdAt: Date(timeIntervalSince1970: 1_700_000_000))
            let created = try await store.createPlayer(new)
            #expect(created.displayName == "Ada")
            #expect(created.homeRegion == "eu-west")
            #expect(created.epoch == 4)
            #expect(created.state == .active)
            #expect(created.progression == Progression(xp: 0))
            #expect(created.ledgerSequence == 0)
            #expect(abs(created.createdAt.timeIntervalSince1970 - 1_700_000_000) < 0.001)
            var retry = new
            retry.displayName = "Someone else"
            #expect(try await store.createPlayer(retry) == created)
            #expect(try await store.player(PlayerID()) == nil)

            let renamed = try await store.renamePlayer(new.id, epoch: 4, displayName: "Ada L.")
            #expect(try await store.player(new.id) == renamed)
            let code1 = await storageError { try await store.renamePlayer(new.id, epoch: 4, displayName: "") }?.code
            #expect(code1 == .invalidArgument)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func matchesAreRecordedOnceAndLevelFollowsXP(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store)
            var summary = ByteBuffer()
            summary.writeBytes([0, 1, 2, 0xFF, 0x80])
            let first = MatchRecord(matchID: MatchID(), player: player.id, finishedAt: Date(timeIntervalSince1970: 1_000), outcome: .win, xpAwarded: 250, summary: summary)
            let recorded = try await store.recordMatch(first, epoch: .initial)
            #expect(recorded == MatchRecordResult(recorded: true, progression: Progression(xp: 250)))
            #expect(recorded.progression.level == 2)

            let retried = try await store.recordMatch(first, epoch: .initial)
            #expect(retried == MatchRecordResult(recorded: false, progression: Progression(xp: 250)))

            let second = MatchRecord(matchID: MatchID(), player: player.id, finishedAt: Date(timeIntervalSince1970: 2_000), outcome: .loss, xpAwarded: 50)
            #expect(try await store.recordMatch(second, epoch: .initial).progression == Progression(xp: 300))
            #expect(try await store.player(player.id)?.progression.level == 3)

            let history = try await store.matchHistory(of: player.id, limit: 10)
            #expect(history.map(\.matchID) == [second.matchID, first.matchID])
            #expect(history.last?.summary == summary)
            #expect(history.last?.outcome == .win)
            #expect(try await store.matchHistory(of: player.id, limit: 1).count == 1)
            let code2 = await storageError { try await store.recordMatch(MatchRecord(matchID: MatchID(), player: PlayerID(), finishedAt: Date(), outcome: .draw, xpAwarded: 1), epoch: 1) }?.code
            #expect(code2 == .playerNotFound)
        }
    }
}
