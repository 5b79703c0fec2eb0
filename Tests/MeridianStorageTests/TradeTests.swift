import Foundation
import Testing
@testable import MeridianStorage

/// The two regions of a cross-region trade: the giver's store and the receiver's store.
struct RegionPair: Sendable, CustomTestStringConvertible {
    var giver: TestBackend
    var receiver: TestBackend

    static var enabled: [RegionPair] {
        var pairs = [RegionPair(giver: .sqlite, receiver: .sqlite)]
        if TestBackend.postgresURL != nil {
            pairs.append(RegionPair(giver: .postgres, receiver: .postgres))
            pairs.append(RegionPair(giver: .sqlite, receiver: .postgres))
        }
        return pairs
    }

    var testDescription: String { "\(giver.rawValue) → \(receiver.rawValue)" }
}

/// Runs `body` with two fresh stores, removed afterwards.
func withRegions(_ pair: RegionPair, _ body: (FreshStore, FreshStore) async throws -> Void) async throws {
    try await withFresh(pair.giver) { giver in
        try await withFresh(pair.receiver) { receiver in
            try await body(giver, receiver)
        }
    }
}

@Suite struct TradeTests {
    let coordinator = TradeCoordinator(logger: testLogger)

    /// Crashes the coordinator after every possible number of steps (and restarts both stores from
    /// disk), then settles the trade: both players end whole and the audit passes, also mid-trade.
    @Test(arguments: RegionPair.enabled)
    func crossRegionTradeSurvivesACrashAtEveryStep(_ pair: RegionPair) async throws {
        try await withRegions(pair) { giverFresh, receiverFresh in
            for crashAfter in 0...3 {
                var giverStore = giverFresh.store
                var receiverStore = receiverFresh.store
                let giver = try await makePlayer(giverStore, region: "eu-west").id
                let receiver = try await makePlayer(receiverStore, region: "us-east").id
                try await grant(giverStore, giver, ["gold": 100, "sword": 1])
                let trade = TradeOutRequest(
                    tradeID: TradeID(), giver: giver, giverEpoch: .initial, receiver: receiver,
                    destinationRegion: "us-east", items: ["gold": 40, "sword": 1], reason: "test"
                )
                let out = try await giverStore.tradeOut(trade)
                #expect(out.balancesAfter == ["gold": 60, "sword": 0])
                #expect(try await giverStore.tradeOut(trade).replayed)
                #expect(try await giverStore.pendingTrades(limit: 100).map(\.tradeID).contains(trade.tradeID))
                try await expectClean([giverStore, receiverStore])

                var opened: [any RegionStore] = []
                for _ in 0..<crashAfter {
                    let progress = try await coordinator.step(trade.tradeID, giverStore: giverStore, receiverStore: receiverStore)
                    if case .deferred = progress { Issue.record("deferred") }
                    try await expectClean([giverStore, receiverStore])
                }
                // "Crash": forget the coordinator, reopen both stores, settle with a new coordinator.
                giverStore = try await giverFresh.reopen()
                receiverStore = try await receiverFresh.reopen()
                opened = [giverStore, receiverStore]
                let outcome = try await TradeCoordinator(logger: testLogger).settle(trade.tradeID, giverStore: giverStore, receiverStore: receiverStore)
                #expect(outcome == .finished(.delivered), "crash after \(crashAfter) steps")
                #expect(try await TradeCoordinator(logger: testLogger).settle(trade.tradeID, giverStore: giverStore, receiverStore: receiverStore) == .finished(.delivered))

                #expect(try await giverStore.balances(of: giver) == ["gold": 60, "sword": 0])
                #expect(try await receiverStore.balances(of: receiver) == ["gold": 40, "sword": 1])
                #expect(try await giverStore.tradeOutboxEntry(trade.tradeID)?.status == .delivered)
                #expect(try await receiverStore.tradeInboxRecord(trade.tradeID)?.decision == .delivered)
                // A late duplicate delivery is a replay, not a second credit.
                #expect(try await receiverStore.tradeIn(TradeDelivery(tradeID: trade.tradeID, giver: giver, receiver: receiver, items: trade.items)).replayed)
                #expect(try await receiverStore.balances(of: receiver) == ["gold": 40, "sword": 1])
                try await expectClean([giverStore, receiverStore])
                for store in opened { await store.close() }
            }
        }
    }

    @Test(arguments: RegionPair.enabled)
    func aTradeToAnUnknownReceiverIsRefundedExactlyOnce(_ pair: RegionPair) async throws {
        try await withRegions(pair) { giverFresh, receiverFresh in
            let giverStore = giverFresh.store
            let receiverStore = receiverFresh.store
            let giver = try await makePlayer(giverStore).id
            let ghost = PlayerID()
            try await grant(giverStore, giver, ["gold": 10])
            let trade = TradeOutRequest(tradeID: TradeID(), giver: giver, giverEpoch: .initial, receiver: ghost, destinationRegion: "us-east", items: ["gold": 7])
            _ = try await giverStore.tradeOut(trade)
            #expect(try await giverStore.balances(of: giver) == ["gold": 3])

            #expect(try await coordinator.step(trade.tradeID, giverStore: giverStore, receiverStore: receiverStore) == .performed(.deliver))
            #expect(try await receiverStore.tradeInboxRecord(trade.tradeID)?.decision == .rejected)
            try await expectClean([giverStore, receiverStore])
            #expect(try await coordinator.settle(trade.tradeID, giverStore: giverStore, receiverStore: receiverStore) == .finished(.refunded))
            #expect(try await coordinator.settle(trade.tradeID, giverStore: giverStore, receiverStore: receiverStore) == .finished(.refunded))
            #expect(try await giverStore.balances(of: giver) == ["gold": 10])
            #expect(try await giverStore.refundTrade(trade.tradeID).replayed)
            #expect(try await giverStore.balances(of: giver) == ["gold": 10])

            // The decision is final: a delivery after the rejection is refused, as is acknowledging it.
            _ = try await receiverStore.createPlayer(NewPlayer(id: ghost, displayName: "late", homeRegion: "us-east"))
            let code1 = await storageError { try await receiverStore.tradeIn(TradeDelivery(tradeID: trade.tradeID, giver: giver, receiver: ghost, items: trade.items)) }?.code
            #expect(code1 == .tradeSettled)
            let code2 = await storageError { try await giverStore.markTradeDelivered(trade.tradeID) }?.code
            #expect(code2 == .tradeSettled)
            try await expectClean([giverStore, receiverStore])
        }
    }

    @Test(arguments: TestBackend.enabled)
    func tradeLegsAreAtomicAndFenced(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let giver = try await makePlayer(store).id
            let receiver = try await makePlayer(store).id
            try await grant(store, giver, ["gold": 5])
            let tooMuch = TradeOutRequest(tradeID: TradeID(), giver: giver, giverEpoch: .initial, receiver: receiver, destinationRegion: "eu-west", items: ["gold": 6])
            let code3 = await storageError { try await store.tradeOut(tooMuch) }?.code
            #expect(code3 == .insufficientBalance(item: "gold", available: 5, requested: 6))
            #expect(try await store.tradeOutboxEntry(tooMuch.tradeID) == nil)
            #expect(try await store.pendingTrades(limit: 10).isEmpty)
            let toSelf = TradeOutRequest(tradeID: TradeID(), giver: giver, giverEpoch: .initial, receiver: giver, destinationRegion: "eu-west", items: ["gold": 1])
            let code4 = await storageError { try await store.tradeOut(toSelf) }?.code
            #expect(code4 == .invalidArgument)

            // Same store for both players works too, and a refund after delivery is refused.
            let trade = TradeOutRequest(tradeID: TradeID(), giver: giver, giverEpoch: .initial, receiver: receiver, destinationRegion: "eu-west", items: ["gold": 5])
            _ = try await store.tradeOut(trade)
            var reused = trade
            reused.items = ["gold": 4]
            let code5 = await storageError { try await store.tradeOut(reused) }?.code
            #expect(code5 == .idempotencyConflict)
            #expect(try await coordinator.settle(trade.tradeID, giverStore: store, receiverStore: store) == .finished(.delivered))
            let code6 = await storageError { try await store.refundTrade(trade.tradeID) }?.code
            #expect(code6 == .tradeSettled)
            let code7 = await storageError { try await store.rejectTrade(TradeID(), receiver: receiver, reason: "no") }?.code
            #expect(code7 == .invalidArgument)
            #expect(try await store.balances(of: receiver) == ["gold": 5])
            try await expectClean([store])
        }
    }

    @Test(arguments: TestBackend.enabled)
    func aFrozenReceiverDefersTheTrade(_ backend: TestBackend) async throws {
        try await withFreshStore(backend) { store in
            let giver = try await makePlayer(store).id
            let receiver = try await makePlayer(store).id
            try await grant(store, giver, ["gold": 5])
            _ = try await store.freeze(receiver)
            let trade = TradeOutRequest(tradeID: TradeID(), giver: giver, giverEpoch: .initial, receiver: receiver, destinationRegion: "eu-west", items: ["gold": 2])
            _ = try await store.tradeOut(trade)
            let progress = try await coordinator.settle(trade.tradeID, giverStore: store, receiverStore: store)
            guard case .deferred = progress else {
                Issue.record("expected deferred, got \(progress)")
                return
            }
            #expect(try await store.tradeOutboxEntry(trade.tradeID)?.status == .pending)
            try await expectClean([store])
            _ = try await store.unfreeze(receiver)
            let drained = try await coordinator.drain(giverStore: store) { _ in store }
            #expect(try drained[trade.tradeID]?.get() == .finished(.delivered))
            #expect(try await store.balances(of: receiver) == ["gold": 2])
        }
    }
}

/// Audits `stores` together and fails the test with every mismatch found.
func expectClean(_ stores: [any RegionStore], sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let report = try await LedgerAudit.run(stores: stores)
    #expect(report.isClean, "audit mismatches: \(report.mismatches.map(\.description))", sourceLocation: sourceLocation)
}
