import Foundation

/// Matches the legs of every trade across stores: the giver's outbox row and trade-out event, the
/// receiver's inbox decision and trade-in event, and the giver's refund. Pure.
struct TradeReconciliation {
    private struct Located<T> {
        var location: String
        var value: T
    }

    private var outbox: [TradeID: Located<TradeOutboxEntry>] = [:]
    private var inbox: [TradeID: Located<TradeInboxRecord>] = [:]
    private var legs: [TradeID: [LedgerEventKind: Located<LedgerAuditData.TradeLeg>]] = [:]
    private var duplicates: [AuditMismatch] = []

    var tradeCount: Int { Set(outbox.keys).union(inbox.keys).union(legs.keys).count }

    /// Adds a store's trade rows; the legs of `excluded` players are another store's to count.
    mutating func add(_ store: LedgerAuditData, excluding excluded: Set<PlayerID> = []) {
        for entry in store.outbox {
            if outbox[entry.tradeID] != nil { duplicates.append(Self.mismatch(entry.tradeID, store.location, "has an outbox row in two stores")) }
            outbox[entry.tradeID] = Located(location: store.location, value: entry)
        }
        for record in store.inbox {
            if inbox[record.tradeID] != nil { duplicates.append(Self.mismatch(record.tradeID, store.location, "has an inbox decision in two stores")) }
            inbox[record.tradeID] = Located(location: store.location, value: record)
        }
        for leg in store.tradeLegs where !excluded.contains(leg.player) {
            if legs[leg.tradeID]?[leg.kind] != nil {
                duplicates.append(Self.mismatch(leg.tradeID, store.location, "has two \(leg.kind.rawValue) events"))
            }
            legs[leg.tradeID, default: [:]][leg.kind] = Located(location: store.location, value: leg)
        }
    }

    /// Appends every disagreement to `mismatches` and returns the items in escrow per item kind.
    func reconcile(into mismatches: inout [AuditMismatch], outcomes: inout [TradeID: TradeOutcome]) -> [ItemKind: Int64] {
        mismatches.append(contentsOf: duplicates)
        var inTransit: [ItemKind: Int64] = [:]
        let ids = Set(outbox.keys).union(inbox.keys).union(legs.keys).sorted { $0.uuidString < $1.uuidString }
        for id in ids {
            let legs = self.legs[id] ?? [:]
            let decision = inbox[id]
            guard let located = outbox[id] else {
                if decision?.value.decision == .delivered || legs[.tradeIn] != nil {
                    mismatches.append(Self.mismatch(id, decision?.location, "was traded in but no store has its trade-out: items were created from nothing"))
                } else if !legs.isEmpty {
                    mismatches.append(Self.mismatch(id, nil, "has ledger events but no outbox row"))
                }
                continue
            }
            let entry = located.value
            let expectedOut = LedgerValidation.negated(entry.items)
            if legs[.tradeOut]?.value.deltas != expectedOut || legs[.tradeOut]?.value.player != entry.giver {
                mismatches.append(Self.mismatch(id, located.location, "outbox row disagrees with the giver's trade-out event (or the event is missing)"))
            }
            if decision?.value.decision == .delivered {
                let tradeIn = legs[.tradeIn]?.value
                if tradeIn?.deltas != entry.items || tradeIn?.player != entry.receiver {
                    mismatches.append(Self.mismatch(id, decision?.location, "receiver's trade-in event is missing or differs from the outbox row"))
                }
            } else if legs[.tradeIn] != nil {
                mismatches.append(Self.mismatch(id, legs[.tradeIn]?.location, "has a trade-in event but no delivered decision"))
            }
            outcomes[id] = switch entry.status {
            case .pending: decision?.value.decision == .delivered ? .deliveredUnacknowledged : .inEscrow
            case .delivered: .delivered
            case .refunded: .refunded
            }
            switch entry.status {
            case .pending:
                // Delivered but not yet acknowledged: the receiver holds the items already.
                if decision?.value.decision != .delivered {
                    for (item, quantity) in entry.items { inTransit[item, default: 0] += quantity }
                }
                if legs[.tradeRefund] != nil {
                    mismatches.append(Self.mismatch(id, located.location, "is pending but its giver was refunded"))
                }
            case .delivered:
                if decision?.value.decision != .delivered {
                    mismatches.append(Self.mismatch(id, located.location, "is marked delivered but the receiver's store has no trade-in: items vanished"))
                }
                if legs[.tradeRefund] != nil {
                    mismatches.append(Self.mismatch(id, located.location, "was delivered and refunded: items duplicated"))
                }
            case .refunded:
                if decision?.value.decision == .delivered {
                    mismatches.append(Self.mismatch(id, located.location, "was refunded although its receiver took delivery: items duplicated"))
                }
                let refund = legs[.tradeRefund]?.value
                if refund?.deltas != entry.items || refund?.player != entry.giver {
                    mismatches.append(Self.mismatch(id, located.location, "is marked refunded but the giver's refund event is missing or differs"))
                }
            }
        }
        return inTransit
    }

    private static func mismatch(_ id: TradeID, _ location: String?, _ problem: String) -> AuditMismatch {
        AuditMismatch(kind: .trade, location: location, player: nil, item: nil, tradeID: id, sequence: nil, expected: nil, actual: nil, message: "trade \(id) \(problem)")
    }
}
