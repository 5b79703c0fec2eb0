import Foundation

/// One thing a ledger audit found wrong.
public struct AuditMismatch: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// Per item kind across all stores: created ≠ held + consumed + in transit.
        case conservation
        /// A cached balance differs from the balance recomputed from events.
        case cachedBalance
        /// An event's recorded balance-after differs from the running sum of deltas.
        case balanceChain
        /// A snapshot differs from the sum of the deltas up to its sequence.
        case snapshot
        /// Sequence gaps, events without lines, lines without events, wrong-direction lines.
        case structure
        /// A trade whose legs disagree (delivered without trade-in, delivered and refunded, …).
        case trade
    }

    public var kind: Kind
    /// The store's location; nil for cross-store findings.
    public var location: String?
    public var player: PlayerID?
    public var item: ItemKind?
    public var tradeID: TradeID?
    public var sequence: Int64?
    /// The value the rule expects (e.g. recomputed from events), where one applies.
    public var expected: Int64?
    /// The value found.
    public var actual: Int64?
    public var message: String

    public var description: String {
        var parts = ["\(kind.rawValue):"]
        if let location { parts.append("[\(location)]") }
        parts.append(message)
        return parts.joined(separator: " ")
    }
}

/// The totals of one item kind over every audited store.
public struct ItemConservation: Hashable, Sendable, Codable {
    public var item: ItemKind
    /// Units created by grants, purchases and match rewards.
    public var created: Int64
    /// Units in players' (cached) balances.
    public var held: Int64
    /// Units destroyed by consumes and purchase prices.
    public var consumed: Int64
    /// Units in escrow: traded out, neither traded in nor refunded yet.
    public var inTransit: Int64

    /// created == held + consumed + in transit.
    public var balances: Bool { created == held + consumed + inTransit }
}

/// Where a trade stands, from its giver's outbox row and its receiver's decision.
public enum TradeOutcome: String, Hashable, Sendable, Codable {
    /// Traded out; the receiver has not taken delivery (yet): the items are in escrow.
    case inEscrow = "in_escrow"
    /// The receiver took delivery; the giver has not heard yet.
    case deliveredUnacknowledged = "delivered_unacknowledged"
    case delivered
    case refunded

    /// Delivered or refunded, with both sides knowing it: nothing left to do.
    public var isFinal: Bool { self == .delivered || self == .refunded }
}

/// The result of ``LedgerAudit``.
public struct LedgerAuditReport: Hashable, Sendable, Codable {
    public var locations: [String]
    /// Players counted once each: a player in transfer counts in one store (see ``LedgerAudit``).
    public var playerCount: Int
    /// The events of the counted players' copies.
    public var eventCount: Int
    public var tradeCount: Int
    /// Where each trade with an outbox row stands.
    public var tradeOutcomes: [TradeID: TradeOutcome]
    /// Per item kind, sorted by item.
    public var items: [ItemConservation]
    public var mismatches: [AuditMismatch]

    /// True when nothing is wrong; `meridian ledger audit` exits 1 otherwise.
    public var isClean: Bool { mismatches.isEmpty }
}
