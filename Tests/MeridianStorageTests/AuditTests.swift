import Foundation
import Testing
@testable import MeridianStorage

@Suite struct AuditTests {
    /// Some activity: grants, consumes, purchases and a delivered and a pending trade.
    func populate(_ store: any RegionStore) async throws -> (PlayerID, PlayerID) {
        let alice = try await makePlayer(store).id
        let bob = try await makePlayer(store).id
        try await grant(store, alice, ["gold": 100])
        _ = try await store.append(LedgerAppend(player: alice, epoch: .initial, idempotencyKey: "buy", operation: .purchase(items: ["sword": 1], price: ["gold": 30])))
        _ = try await store.append(LedgerAppend(player: alice, epoch: .initial, idempotencyKey: "use", operation: .consume(["gold": 5])))
        let delivered = TradeOutRequest(tradeID: TradeID(), giver: alice, giverEpoch: .initial, receiver: bob, destinationRegion: "eu-west", items: ["gold": 10])
        _ = try await store.tradeOut(delivered)
        _ = try await TradeCoordinator(logger: testLogger).settle(delivered.tradeID, giverStore: store, receiverStore: store)
        _ = try await store.tradeOut(TradeOutRequest(tradeID: TradeID(), giver: alice, giverEpoch: .initial, receiver: bob, destinationRegion: "eu-west", items: ["sword": 1]))
        return (alice, bob)
    }

    @Test(arguments: TestBackend.enabled)
    func aHealthyLedgerConservesEveryItem(_ backend: TestBackend) async throws {
        try await withFreshStore(backend, snapshotInterval: 2) { store in
            _ = try await populate(store)
            let report = try await LedgerAudit.run(stores: [store])
            #expect(report.isClean, "\(report.mismatches)")
            #expect(report.playerCount == 2)
            #expect(report.eventCount == 6)
            #expect(report.tradeCount == 2)
            let gold = report.items.first { $0.item == "gold" }
            #expect(gold == ItemConservation(item: "gold", created: 100, held: 65, consumed: 35, inTransit: 0))
            let sword = report.items.first { $0.item == "sword" }
            #expect(sword == ItemConservation(item: "sword", created: 1, held: 0, consumed: 0, inTransit: 1))
        }
    }

    @Test(arguments: TestBackend.enabled)
    func aCorruptedBalanceIsDetected(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let (alice, _) = try await populate(store)
            let id = alice.uuidString.lowercased()
            try await executeRaw("UPDATE ledger_balances SET quantity = quantity + 7 WHERE player_id = '\(id)' AND item = 'gold'", on: store)
            let report = try await LedgerAudit.run(stores: [store])
            #expect(!report.isClean)
            let cached = report.mismatches.filter { $0.kind == .cachedBalance }
            #expect(cached.count == 1)
            #expect(cached.first?.player == alice)
            #expect(cached.first?.item == "gold")
            #expect(cached.first?.expected == 55)
            #expect(cached.first?.actual == 62)
            let value1 = report.mismatches.contains { $0.kind == .conservation && $0.item == "gold" }
            #expect(value1)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func corruptedEventsAndTradesAreDetected(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let (alice, _) = try await populate(store)
            let id = alice.uuidString.lowercased()
            // A rewritten balance-after, a trade marked delivered that never arrived, a sequence gap.
            try await executeRaw("UPDATE ledger_lines SET balance_after = balance_after + 1 WHERE player_id = '\(id)' AND seq = 1", on: store)
            try await executeRaw("UPDATE trade_outbox SET status = 'delivered' WHERE status = 'pending'", on: store)
            try await executeRaw("UPDATE players SET ledger_seq = ledger_seq + 1 WHERE player_id = '\(id)'", on: store)
            let kinds = Set(try await LedgerAudit.run(stores: [store]).mismatches.map(\.kind))
            #expect(kinds.isSuperset(of: [.balanceChain, .trade, .structure, .conservation]))
        }
    }

    @Test func tradeLegsAreReconciledAcrossStores() {
        // Pure: a trade-in with no trade-out anywhere created items from nothing.
        var receiver = LedgerAuditData(location: "us-east")
        let trade = TradeID()
        let bob = PlayerID()
        receiver.inbox = [TradeInboxRecord(tradeID: trade, receiver: bob, decision: .delivered, reason: "", recordedAt: Date())]
        receiver.tradeLegs = [.init(tradeID: trade, kind: .tradeIn, player: bob, deltas: ["gold": 5])]
        receiver.addFlow(item: "gold", kind: .tradeIn, credits: 5, debits: 0)
        receiver.held = ["gold": 5]
        let report = LedgerAudit.evaluate([receiver])
        let value2 = report.mismatches.contains { $0.kind == .trade && $0.tradeID == trade }
        #expect(value2)
        let value3 = report.mismatches.contains { $0.kind == .conservation }
        #expect(value3)
    }
}
