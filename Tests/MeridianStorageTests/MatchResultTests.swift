import Foundation
import MeridianMatchmaking
@testable import MeridianStorage
import NIOCore
import Testing

@Suite struct MatchResultTests {
    func application(
        _ player: PlayerID, match: MatchID = MatchID(), outcome: MatchOutcome = .win, xp: Int64 = 250,
        rewards: ItemQuantities = ["gold": 50, "gem": 1], skill: SkillRating? = SkillRating(rating: 1620, deviation: 180, volatility: 0.059),
        epoch: Epoch = .initial
    ) -> MatchResultApplication {
        var summary = ByteBuffer()
        summary.writeBytes([7, 0, 0xFE])
        let record = MatchRecord(
            matchID: match, player: player, finishedAt: Date(timeIntervalSince1970: 1_800_000_000), outcome: outcome, xpAwarded: xp, summary: summary
        )
        return MatchResultApplication(record: record, epoch: epoch, rewards: rewards, skillAfter: skill)
    }

    @Test(arguments: TestBackend.enabled)
    func aMatchResultIsAppliedOnceInOneTransaction(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store).id
            #expect(try await store.player(player)?.skill == .initial)
            try await grant(store, player, ["gold": 10])
            let app = application(player)

            let receipt = try await store.applyMatchResult(app)
            #expect(receipt == LedgerReceipt(player: player, sequence: 2, kind: .matchReward, balancesAfter: ["gold": 60, "gem": 1], replayed: false))
            let profile = try #require(try await store.player(player))
            #expect(profile.progression == Progression(xp: 250))
            #expect(profile.progression.level == 2)
            #expect(profile.skill == SkillRating(rating: 1620, deviation: 180, volatility: 0.059))
            #expect(profile.ledgerSequence == 2)
            #expect(try await store.balances(of: player) == ["gold": 60, "gem": 1])
            #expect(try await store.recomputedBalances(of: player) == ["gold": 60, "gem": 1])
            let history = try await store.matchHistory(of: player, limit: 10)
            #expect(history == [app.record])
            let event = try #require(try await store.ledgerEvents(of: player, after: 1, limit: 10).first)
            #expect(event.kind == .matchReward)
            #expect(event.idempotencyKey == "match:" + app.record.matchID.uuidString.lowercased())
            #expect(event.deltas == ["gold": 50, "gem": 1])

            // A retry after more activity answers with the original receipt and changes nothing.
            try await grant(store, player, ["gold": 1])
            var retry = app
            retry.record.xpAwarded = 9_999
            retry.skillAfter = nil
            let replay = try await store.applyMatchResult(retry)
            #expect(replay == LedgerReceipt(player: player, sequence: 2, kind: .matchReward, balancesAfter: ["gold": 60, "gem": 1], replayed: true))
            let after = try #require(try await store.player(player))
            #expect(after.progression == Progression(xp: 250))
            #expect(after.skill == profile.skill)
            #expect(after.ledgerSequence == 3)
            #expect(try await store.matchHistory(of: player, limit: 10).count == 1)
            #expect(try await store.ledgerReplays(of: player).map(\.idempotencyKey) == [app.idempotencyKey])
            #expect(try await store.ledgerReplays(of: player).map(\.sequence) == [2])

            // The same match with other rewards is refused; a second match adds up and keeps the rating when none is given.
            var greedy = app
            greedy.rewards = ["gold": 5_000]
            let code1 = await storageError { try await store.applyMatchResult(greedy) }?.code
            #expect(code1 == .idempotencyConflict)
            let second = try await store.applyMatchResult(application(player, outcome: .loss, xp: 100, rewards: ["gold": 5], skill: nil))
            #expect(second.sequence == 4)
            #expect(second.balancesAfter == ["gold": 66])
            let final = try #require(try await store.player(player))
            #expect(final.progression == Progression(xp: 350))
            #expect(final.progression.level == 3)
            #expect(final.skill == profile.skill)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func concurrentRetriesApplyOnceAndTheOthersAreReplays(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store).id
            let app = application(player)
            // Straight to the store (five transactions racing) …
            let direct = try await withThrowingTaskGroup(of: LedgerReceipt.self) { group in
                for _ in 0..<5 { group.addTask { try await store.applyMatchResult(app) } }
                var receipts: [LedgerReceipt] = []
                for try await receipt in group { receipts.append(receipt) }
                return receipts
            }
            let count2 = direct.filter { !$0.replayed }.count
            #expect(count2 == 1)
            #expect(direct.filter(\.replayed).count == 4)
            #expect(Set(direct.map(\.sequence)) == [1])
            #expect(Set(direct.map(\.balancesAfter)) == [["gold": 50, "gem": 1]])

            // … and through a writer, where the retries may share a batch with the original.
            let other = application(player, xp: 100, rewards: ["gold": 7], skill: nil)
            let writer = LedgerWriter(store: store, configuration: .init(maximumDelay: .milliseconds(5)), logger: testLogger)
            let batched = try await withThrowingTaskGroup(of: LedgerReceipt.self) { group in
                for _ in 0..<5 { group.addTask { try await writer.submit(.matchResult(other)) } }
                var receipts: [LedgerReceipt] = []
                for try await receipt in group { receipts.append(receipt) }
                return receipts
            }
            let count3 = batched.filter { !$0.replayed }.count
            #expect(count3 == 1)
            #expect(Set(batched.map(\.sequence)) == [2])

            let profile = try #require(try await store.player(player))
            #expect(profile.progression == Progression(xp: 350))
            #expect(profile.ledgerSequence == 2)
            #expect(try await store.balances(of: player) == ["gold": 57, "gem": 1])
            #expect(try await store.matchHistory(of: player, limit: 10).count == 2)
            let replays = try await store.ledgerReplays(of: player)
            #expect(replays.count == 8)
            let value4 = replays.filter { $0.idempotencyKey == app.idempotencyKey }.allSatisfy { $0.sequence == 1 }
            #expect(value4)
            #expect(try await LedgerAudit.run(stores: [store]).isClean)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func refusalsWriteNothing(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store).id
            _ = try await store.setEpoch(player, to: 2)
            let before = try #require(try await store.player(player))

            let stale = application(player, epoch: 1)
            let code5 = await storageError { try await store.applyMatchResult(stale) }?.code
            #expect(code5 == .staleEpoch(current: 2))
            let code6 = await storageError { try await store.recordMatch(stale.record, epoch: 1) }?.code
            #expect(code6 == .staleEpoch(current: 2))

            _ = try await store.freeze(player)
            let frozen = application(player, epoch: 2)
            let code7 = await storageError { try await store.applyMatchResult(frozen) }?.code
            #expect(code7 == .frozen)
            _ = try await store.unfreeze(player)

            let stranger = application(PlayerID())
            let code8 = await storageError { try await store.applyMatchResult(stranger) }?.code
            #expect(code8 == .playerNotFound)
            let code9 = await storageError { try await store.applyMatchResult(application(player, xp: -1, epoch: 2)) }?.code
            #expect(code9 == .invalidArgument)
            let code10 = await storageError { try await store.applyMatchResult(application(player, rewards: ["gold": 0], epoch: 2)) }?.code
            #expect(code10 == .invalidArgument)
            let nan = SkillRating(rating: .nan, deviation: 1, volatility: 1)
            let code11 = await storageError { try await store.applyMatchResult(application(player, skill: nan, epoch: 2)) }?.code
            #expect(code11 == .invalidArgument)

            #expect(try await store.player(player) == before)
            #expect(try await store.matchHistory(of: player, limit: 10).isEmpty)
            #expect(try await store.balances(of: player).isEmpty)
            #expect(try await store.ledgerEvents(of: player, after: 0, limit: 10).isEmpty)
            #expect(try await store.ledgerReplays(of: player).isEmpty)

            // The refused match is not burnt: with the current epoch it applies.
            #expect(try await store.applyMatchResult(frozen).sequence == 1)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func aLostServerRecordsTheMatchWithoutRewards(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store).id
            let lost = application(player, outcome: .serverLost, xp: 0, rewards: [:], skill: nil)
            let receipt = try await store.applyMatchResult(lost)
            #expect(receipt == LedgerReceipt(player: player, sequence: 1, kind: .matchReward, balancesAfter: [:], replayed: false))
            let profile = try #require(try await store.player(player))
            #expect(profile.skill == .initial)
            #expect(profile.progression == Progression(xp: 0))
            #expect(profile.ledgerSequence == 1)
            #expect(try await store.matchHistory(of: player, limit: 10).map(\.outcome) == [.serverLost])
            let events = try await store.ledgerEvents(of: player, after: 0, limit: 10)
            #expect(events.map(\.kind) == [.matchReward])
            #expect(events.first?.deltas == [:])
            #expect(try await store.balances(of: player).isEmpty)

            // An event without lines replays like any other.
            #expect(try await store.applyMatchResult(lost) == LedgerReceipt(player: player, sequence: 1, kind: .matchReward, balancesAfter: [:], replayed: true))
            #expect(try await store.player(player)?.ledgerSequence == 1)
            let report = try await LedgerAudit.run(stores: [store])
            #expect(report.isClean, "\(report.mismatches)")
            #expect(report.eventCount == 1)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func theAuditCountsMatchRewardsAsCreated(_ backend: TestBackend) async throws {
        try await withFreshStore(backend, snapshotInterval: 2) { store in
            let alice = try await makePlayer(store).id
            let bob = try await makePlayer(store).id
            try await grant(store, alice, ["gold": 100])
            _ = try await store.applyMatchResult(application(alice, rewards: ["gold": 40, "gem": 2]))
            _ = try await store.applyMatchResult(application(bob, outcome: .loss, rewards: ["gold": 5]))
            _ = try await store.applyMatchResult(application(bob, outcome: .serverLost, xp: 0, rewards: [:], skill: nil))
            _ = try await store.append(LedgerAppend(player: alice, epoch: .initial, idempotencyKey: "use", operation: .consume(["gold": 30, "gem": 1])))
            _ = try await store.recordMatch(application(alice).record, epoch: .initial)
            let report = try await LedgerAudit.run(stores: [store])
            #expect(report.isClean, "\(report.mismatches)")
            #expect(report.eventCount == 6)
            let value12 = report.items.first { $0.item == "gold" }
            #expect(value12 == ItemConservation(item: "gold", created: 145, held: 115, consumed: 30, inTransit: 0))
            let value13 = report.items.first { $0.item == "gem" }
            #expect(value13 == ItemConservation(item: "gem", created: 2, held: 1, consumed: 1, inTransit: 0))
        }
    }

    @Test(arguments: TestBackend.enabled)
    func recordMatchIsAMatchResultWithoutRewards(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store).id
            let app = application(player, rewards: [:], skill: nil)
            #expect(try await store.recordMatch(app.record, epoch: .initial) == MatchRecordResult(recorded: true, progression: Progression(xp: 250)))
            // Either entry point sees the other's match as already applied.
            #expect(try await store.applyMatchResult(app).replayed)
            #expect(try await store.recordMatch(app.record, epoch: .initial) == MatchRecordResult(recorded: false, progression: Progression(xp: 250)))
            let other = application(player, xp: 50, rewards: [:])
            #expect(try await store.applyMatchResult(other).sequence == 2)
            #expect(try await store.recordMatch(other.record, epoch: .initial) == MatchRecordResult(recorded: false, progression: Progression(xp: 300)))
            #expect(try await store.player(player)?.ledgerSequence == 2)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func theWriterBatchesMatchResultsOfManyPlayers(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            var players: [PlayerID] = []
            for _ in 0..<40 { players.append(try await makePlayer(store).id) }
            let writer = LedgerWriter(store: store, configuration: .init(maximumBatchSize: 64, maximumDelay: .milliseconds(5)), logger: testLogger)
            let applications = players.enumerated().map { index, player in
                application(
                    player, outcome: index % 4 == 3 ? .serverLost : .win, xp: Int64(index * 10),
                    rewards: index % 4 == 3 ? [:] : ["gold": Int64(index + 1)],
                    skill: SkillRating(rating: 1500 + Double(index), deviation: 200, volatility: 0.06)
                )
            }
            let receipts = try await withThrowingTaskGroup(of: (Int, LedgerReceipt).self) { group in
                for (index, app) in applications.enumerated() {
                    group.addTask { (index, try await writer.submit(.matchResult(app))) }
                }
                var all: [Int: LedgerReceipt] = [:]
                for try await (index, receipt) in group { all[index] = receipt }
                return all
            }
            #expect(receipts.count == 40)
            let statistics = await writer.statistics
            #expect(statistics.batches < statistics.commands, "match results were batched")
            #expect(statistics.failedBatches == 0)
            for (index, player) in players.enumerated() {
                let receipt = try #require(receipts[index])
                #expect(receipt.sequence == 1 && !receipt.replayed && receipt.player == player)
                let profile = try #require(try await store.player(player))
                #expect(profile.progression == Progression(xp: Int64(index * 10)))
                #expect(profile.skill.rating == 1500 + Double(index))
                #expect(try await store.matchHistory(of: player, limit: 5).map(\.matchID) == [applications[index].record.matchID])
                #expect(try await store.balances(of: player) == (index % 4 == 3 ? [:] : ["gold": Int64(index + 1)]))
            }

            // Everyone's retry in one submission: all replays, nothing changes.
            let retried = await writer.submit(applications.map { LedgerCommand.matchResult($0) })
            let value14 = try retried.allSatisfy { try $0.get().replayed && $0.get().sequence == 1 }
            #expect(value14)
            #expect(try await store.player(players[5])?.progression == Progression(xp: 50))
            let report = try await LedgerAudit.run(stores: [store])
            #expect(report.isClean, "\(report.mismatches)")
            #expect(report.eventCount == 40)
        }
    }
}
