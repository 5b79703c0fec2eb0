import Foundation

/// Recomputes every balance from the events of every region and checks conservation per item kind:
/// `created (grants + purchases + match rewards) == held (sum of balances) + consumed + in transit`, where in transit
/// are the items of trades traded out and neither traded in nor refunded. Also checks that every cached
/// balance, balance-after and snapshot equals its recomputation, that sequences are gapless, and that
/// the legs of every trade agree across stores.
///
/// A player in transfer counts once at every step (``TransferCopies``): incoming and tombstoned
/// copies never count, and of a frozen source and an already activated destination only the copy
/// with the higher epoch counts.
///
/// Run it on a quiet cluster: a trade or a transfer that progresses between the reads of two stores
/// can show as a transient mismatch (re-run to confirm). The per-store checks are exact at any time.
public enum LedgerAudit {
    /// Reads every store and evaluates them together. Pass every region's store(s): a trade whose
    /// other leg lives in a store not passed is reported.
    public static func run(stores: [any RegionStore]) async throws(StorageError) -> LedgerAuditReport {
        var data: [LedgerAuditData] = []
        for store in stores {
            data.append(try await store.ledgerAuditData())
        }
        // Players frozen somewhere are mid-transfer (few): ask the other stores for their copies.
        let frozen = Set(data.flatMap(\.frozenCopies.keys)).sorted { $0.uuidString < $1.uuidString }
        for (index, store) in stores.enumerated() {
            for player in frozen where data[index].frozenCopies[player] == nil {
                guard let copy = try await store.player(player) else { continue }
                switch copy.state {
                case .active, .frozen: data[index].counterpartEpochs[player] = copy.epoch
                case .incoming, .tombstoned: break
                }
            }
        }
        return evaluate(data)
    }

    /// Evaluates the stores' aggregates. Pure.
    public static func evaluate(_ stores: [LedgerAuditData]) -> LedgerAuditReport {
        var mismatches: [AuditMismatch] = []
        var created: [ItemKind: Int64] = [:]
        var consumed: [ItemKind: Int64] = [:]
        var held: [ItemKind: Int64] = [:]
        var playerCount = 0
        var eventCount = 0

        let copies = TransferCopies(stores)
        mismatches.append(contentsOf: copies.mismatches)
        for (index, store) in stores.enumerated() {
            perStore(store, into: &mismatches)
            for (item, flow) in store.flows {
                created[item, default: 0] += flow.created
                consumed[item, default: 0] += flow.consumed
            }
            for (item, quantity) in store.held { held[item, default: 0] += quantity }
            playerCount += store.playerCount
            eventCount += store.eventCount
            // A frozen source whose destination is already active: the destination's copy counts.
            for copy in copies.excluded(index, of: store) {
                for (item, flow) in copy.flows {
                    created[item, default: 0] -= flow.created
                    consumed[item, default: 0] -= flow.consumed
                }
                for (item, quantity) in copy.held { held[item, default: 0] -= quantity }
                playerCount -= 1
                eventCount -= copy.eventCount
            }
        }

        var trades = TradeReconciliation()
        for (index, store) in stores.enumerated() { trades.add(store, excluding: copies.superseded[index] ?? []) }
        var outcomes: [TradeID: TradeOutcome] = [:]
        let inTransit = trades.reconcile(into: &mismatches, outcomes: &outcomes)

        let allItems = Set(created.keys).union(consumed.keys).union(held.keys).union(inTransit.keys)
        let items = allItems.sorted().map { item in
            ItemConservation(item: item, created: created[item] ?? 0, held: held[item] ?? 0, consumed: consumed[item] ?? 0, inTransit: inTransit[item] ?? 0)
        }
        for item in items where !item.balances {
            mismatches.append(AuditMismatch(
                kind: .conservation, location: nil, player: nil, item: item.item, tradeID: nil, sequence: nil,
                expected: item.created, actual: item.held + item.consumed + item.inTransit,
                message: "\(item.item): created \(item.created) ≠ held \(item.held) + consumed \(item.consumed) + in transit \(item.inTransit)"
            ))
        }
        return LedgerAuditReport(
            locations: stores.map(\.location),
            playerCount: playerCount,
            eventCount: eventCount,
            tradeCount: trades.tradeCount,
            tradeOutcomes: outcomes,
            items: items,
            mismatches: mismatches
        )
    }

    private static func perStore(_ store: LedgerAuditData, into mismatches: inout [AuditMismatch]) {
        let location = store.location
        for row in store.balanceMismatches {
            mismatches.append(AuditMismatch(
                kind: .cachedBalance, location: location, player: row.player, item: row.item, tradeID: nil, sequence: nil,
                expected: row.recomputed, actual: row.cached,
                message: "player \(row.player) has \(row.cached) \(row.item) cached but \(row.recomputed) by the events"
            ))
        }
        for row in store.chainBreaks {
            mismatches.append(AuditMismatch(
                kind: .balanceChain, location: location, player: row.player, item: row.item, tradeID: nil, sequence: row.sequence,
                expected: row.recomputed, actual: row.recorded,
                message: "player \(row.player) event \(row.sequence) records \(row.recorded) \(row.item) after it, the events sum to \(row.recomputed)"
            ))
        }
        for row in store.snapshotMismatches {
            mismatches.append(AuditMismatch(
                kind: .snapshot, location: location, player: row.player, item: row.item, tradeID: nil, sequence: row.sequence,
                expected: row.recomputed, actual: row.snapshot,
                message: "player \(row.player) snapshot at \(row.sequence) holds \(row.snapshot) \(row.item), the events sum to \(row.recomputed)"
            ))
        }
        for row in store.structural {
            mismatches.append(AuditMismatch(
                kind: .structure, location: location, player: row.player, item: nil, tradeID: nil, sequence: row.sequence,
                expected: nil, actual: nil, message: row.problem
            ))
        }
    }
}
