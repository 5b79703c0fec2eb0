import Foundation
import Testing
@testable import MeridianStorage

/// Writes carrying a stale epoch, or to a frozen player, are refused inside the transaction and write nothing.
@Suite struct FencingTests {
    @Test(arguments: TestBackend.enabled)
    func staleEpochWritesAreRefusedAndWriteNothing(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store, epoch: 2)
            try await grant(store, player.id, ["gold": 10], epoch: 2)
            let before = try await store.player(player.id)

            let stale: [(String, () async throws -> Void)] = [
                ("append", { _ = try await store.append(LedgerAppend(player: player.id, epoch: 1, idempotencyKey: "a", operation: .grant(["gold": 1]))) }),
                ("rename", { _ = try await store.renamePlayer(player.id, epoch: 1, displayName: "x") }),
                ("match", { _ = try await store.recordMatch(MatchRecord(matchID: MatchID(), player: player.id, finishedAt: Date(), outcome: .win, xpAwarded: 10), epoch: 1) }),
                ("trade", { _ = try await store.tradeOut(TradeOutRequest(tradeID: TradeID(), giver: player.id, giverEpoch: 3, receiver: PlayerID(), destinationRegion: "us-east", items: ["gold": 1])) }),
            ]
            for (name, write) in stale {
                let error = await storageError(write)
                #expect(error?.code == .staleEpoch(current: 2), "\(name)")
            }
            #expect(try await store.player(player.id) == before)
            #expect(try await store.balances(of: player.id) == ["gold": 10])
            #expect(try await store.matchHistory(of: player.id, limit: 10).isEmpty)
            #expect(try await store.pendingTrades(limit: 10).isEmpty)
            #expect(try await store.ledgerEvents(of: player.id, after: 0, limit: 10).count == 1)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func frozenPlayersRefuseEveryWriteUntilUnfrozen(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store)
            try await grant(store, player.id, ["gold": 5])
            #expect(try await store.freeze(player.id).state == .frozen)
            #expect(try await store.freeze(player.id).state == .frozen)  // idempotent

            let append = LedgerAppend(player: player.id, epoch: .initial, idempotencyKey: "while-frozen", operation: .grant(["gold": 1]))
            let code1 = await storageError { try await store.append(append) }?.code
            #expect(code1 == .frozen)
            let code2 = await storageError { try await store.renamePlayer(player.id, epoch: .initial, displayName: "x") }?.code
            #expect(code2 == .frozen)
            let code3 = await storageError {
                try await store.recordMatch(MatchRecord(matchID: MatchID(), player: player.id, finishedAt: Date(), outcome: .win, xpAwarded: 1), epoch: .initial)
            }?.code
            #expect(code3 == .frozen)
            // System writes (trade deliveries) are fenced by the freeze too.
            let delivery = TradeDelivery(tradeID: TradeID(), giver: PlayerID(), receiver: player.id, items: ["gold": 1])
            let code4 = await storageError { try await store.tradeIn(delivery) }?.code
            #expect(code4 == .frozen)
            #expect(try await store.balances(of: player.id) == ["gold": 5])
            #expect(try await store.player(player.id)?.ledgerSequence == 1)

            #expect(try await store.unfreeze(player.id).state == .active)
            #expect(try await store.append(append).sequence == 2)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func transferFencingLifecycle(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let player = try await makePlayer(store)
            let code5 = await storageError { try await store.tombstone(player.id) }?.code
            #expect(code5 == .invalidArgument)
            #expect(try await store.setEpoch(player.id, to: 3).epoch == 3)
            #expect(try await store.setEpoch(player.id, to: 3).epoch == 3)  // retry is a no-op
            let code6 = await storageError { try await store.setEpoch(player.id, to: 2) }?.code
            #expect(code6 == .staleEpoch(current: 3))
            let code7 = await storageError { try await grant(store, player.id, ["gold": 1], epoch: .initial) }?.code
            #expect(code7 == .staleEpoch(current: 3))
            try await grant(store, player.id, ["gold": 1], epoch: 3)

            _ = try await store.freeze(player.id)
            #expect(try await store.tombstone(player.id).state == .tombstoned)
            #expect(try await store.tombstone(player.id).state == .tombstoned)
            let code8 = await storageError { try await store.unfreeze(player.id) }?.code
            #expect(code8 == .tombstoned)
            let code9 = await storageError { try await grant(store, player.id, ["gold": 1], epoch: 3) }?.code
            #expect(code9 == .tombstoned)
            let code10 = await storageError { try await store.freeze(PlayerID()) }?.code
            #expect(code10 == .playerNotFound)
        }
    }
}
