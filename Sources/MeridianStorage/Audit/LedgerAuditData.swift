import Foundation

/// What one store contributes to a ledger audit: aggregates computed from its events (so the audit
/// never trusts the derived tables) and the rows that disagree with them, read in one consistent snapshot.
public struct LedgerAuditData: Sendable {
    /// Created and destroyed units of one item kind in one store, from the events.
    public struct Flows: Hashable, Sendable, Codable {
        /// Credits of grants, purchases and match rewards.
        public var created: Int64 = 0
        /// Debits of consumes and purchases (prices).
        public var consumed: Int64 = 0
        public var tradedOut: Int64 = 0
        public var tradedIn: Int64 = 0
        public var refunded: Int64 = 0
    }

    /// A (player, item) whose cached balance differs from the sum of its events.
    public struct BalanceMismatch: Hashable, Sendable {
        public var player: PlayerID
        public var item: ItemKind
        public var cached: Int64
        public var recomputed: Int64
    }

    /// An event line whose recorded balance-after is not the running sum of the deltas before it.
    public struct ChainBreak: Hashable, Sendable {
        public var player: PlayerID
        public var sequence: Int64
        public var item: ItemKind
        public var recorded: Int64
        public var recomputed: Int64
    }

    /// A snapshot quantity that differs from the sum of the deltas up to its sequence.
    public struct SnapshotMismatch: Hashable, Sendable {
        public var player: PlayerID
        public var sequence: Int64
        public var item: ItemKind
        public var snapshot: Int64
        public var recomputed: Int64
    }

    /// A structural problem: a sequence gap, an event without lines, lines without an event, …
    public struct Structural: Hashable, Sendable {
        public var player: PlayerID?
        public var sequence: Int64?
        public var problem: String
    }

    /// One trade leg's event, with its signed deltas.
    public struct TradeLeg: Hashable, Sendable {
        public var tradeID: TradeID
        public var kind: LedgerEventKind
        public var player: PlayerID
        public var deltas: [ItemKind: Int64]
    }

    /// The store's ``RegionStore/location``.
    public var location: String
    public var playerCount: Int = 0
    public var eventCount: Int = 0
    public var flows: [ItemKind: Flows] = [:]
    /// Sum of the cached balances per item.
    public var held: [ItemKind: Int64] = [:]
    public var balanceMismatches: [BalanceMismatch] = []
    public var chainBreaks: [ChainBreak] = []
    public var snapshotMismatches: [SnapshotMismatch] = []
    public var structural: [Structural] = []
    public var outbox: [TradeOutboxEntry] = []
    public var inbox: [TradeInboxRecord] = []
    public var tradeLegs: [TradeLeg] = []

    /// At most this many rows of each mismatch kind are read from one store.
    public static let mismatchLimit = 10_000

    init(location: String) {
        self.location = location
    }

    /// Adds the summed credits and debits of one (item, event kind); a line against its kind's direction
    /// (a consume that credits, …) is recorded as a structural problem.
    mutating func addFlow(item: ItemKind, kind: LedgerEventKind, credits: Int64, debits: Int64) {
        var flow = flows[item] ?? Flows()
        var wrongDirection = false
        switch kind {
        case .grant, .matchReward:
            flow.created += credits
            wrongDirection = debits != 0
        case .purchase:
            flow.created += credits
            flow.consumed += debits
        case .consume:
            flow.consumed += debits
            wrongDirection = credits != 0
        case .tradeOut:
            flow.tradedOut += debits
            wrongDirection = credits != 0
        case .tradeIn:
            flow.tradedIn += credits
            wrongDirection = debits != 0
        case .tradeRefund:
            flow.refunded += credits
            wrongDirection = debits != 0
        }
        flows[item] = flow
        if wrongDirection {
            structural.append(.init(player: nil, sequence: nil, problem: "\(kind.rawValue) events move \(item) the wrong way (credits \(credits), debits \(debits))"))
        }
    }
}
