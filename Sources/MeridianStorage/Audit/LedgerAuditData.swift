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

        /// Adds the summed credits and debits of one event kind; false if a line goes against the
        /// kind's direction (a consume that credits, …).
        mutating func add(kind: LedgerEventKind, credits: Int64, debits: Int64) -> Bool {
            switch kind {
            case .grant, .matchReward:
                created += credits
                return debits == 0
            case .purchase:
                created += credits
                consumed += debits
                return true
            case .consume:
                consumed += debits
                return credits == 0
            case .tradeOut:
                tradedOut += debits
                return credits == 0
            case .tradeIn:
                tradedIn += credits
                return debits == 0
            case .tradeRefund:
                refunded += credits
                return debits == 0
            }
        }
    }

    /// A player this store holds ``PlayerState/frozen``: a transfer away from it is under way. The
    /// copy is in the store's totals (``flows``, ``held``, ``playerCount``, ``eventCount``,
    /// ``tradeLegs``); ``LedgerAudit`` takes it out again when another store counts a copy of the
    /// player with a higher epoch (the destination was activated before this copy was tombstoned).
    public struct FrozenCopy: Hashable, Sendable {
        public var epoch: Epoch
        public var eventCount: Int = 0
        public var flows: [ItemKind: Flows] = [:]
        public var held: ItemQuantities = [:]

        public init(epoch: Epoch) {
            self.epoch = epoch
        }
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
    /// Players that count: not ``PlayerState/incoming`` or ``PlayerState/tombstoned`` copies, which
    /// are the player's data in another store (arriving, or moved away). ``eventCount``, ``flows``,
    /// ``held`` and ``tradeLegs`` cover the counted players too; the consistency checks cover all.
    public var playerCount: Int = 0
    public var eventCount: Int = 0
    public var flows: [ItemKind: Flows] = [:]
    /// Sum of the cached balances per item.
    public var held: [ItemKind: Int64] = [:]
    /// The counted players that are frozen here (mid-transfer), with what they contribute.
    public var frozenCopies: [PlayerID: FrozenCopy] = [:]
    /// The epochs of this store's counted copies of players that another store holds frozen, which
    /// ``LedgerAudit/run(stores:)`` looks up after reading every store.
    public var counterpartEpochs: [PlayerID: Epoch] = [:]
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

    /// Adds the summed credits and debits of one (item, event kind) to the totals if the lines' players
    /// are `counted`; a line against its kind's direction (a consume that credits, …) is recorded as a
    /// structural problem either way.
    mutating func addFlow(item: ItemKind, kind: LedgerEventKind, credits: Int64, debits: Int64, counted: Bool = true) {
        var flow = counted ? flows[item] ?? Flows() : Flows()
        if !flow.add(kind: kind, credits: credits, debits: debits) {
            structural.append(.init(player: nil, sequence: nil, problem: "\(kind.rawValue) events move \(item) the wrong way (credits \(credits), debits \(debits))"))
        }
        if counted { flows[item] = flow }
    }

    /// Adds one frozen player's credits and debits of one (item, event kind) to its ``FrozenCopy``.
    mutating func addFrozenFlow(player: PlayerID, item: ItemKind, kind: LedgerEventKind, credits: Int64, debits: Int64) {
        // Directions were checked with the store's flows.
        _ = frozenCopies[player]?.flows[item, default: Flows()].add(kind: kind, credits: credits, debits: debits)
    }
}
