import Foundation
import MeridianCluster
import MeridianMatchmaking
import MeridianStorage

/// A player as other regions see it (the reply of ``PlayerHome/view()``).
public struct PlayerView: Sendable, Hashable {
    public var id: UUID
    public var displayName: String
    public var homeRegion: String
    public var epoch: Int64
    public var state: String
    public var xp: Int64
    public var level: Int64
    public var ledgerSequence: Int64
    public var balances: [String: Int64]
    /// The player's Glicko-2 rating (updated after every match).
    public var skill: SkillRating

    init(profile: PlayerProfile, balances: ItemQuantities) {
        self.id = profile.id
        self.displayName = profile.displayName
        self.homeRegion = profile.homeRegion
        self.epoch = profile.epoch.rawValue
        self.state = profile.state.rawValue
        self.xp = profile.progression.xp
        self.level = Int64(profile.progression.level)
        self.ledgerSequence = profile.ledgerSequence
        self.balances = Dictionary(uniqueKeysWithValues: balances.map { ($0.key.rawValue, $0.value) })
        self.skill = profile.skill
    }

}

/// The outcome of a ledger write, as the caller sees it.
public struct LedgerReceiptView: Sendable, Hashable {
    public var sequence: Int64
    public var kind: String
    public var balancesAfter: [String: Int64]
    /// True when the idempotency key was seen before: this is the original result, not a new write.
    public var replayed: Bool

    init(_ receipt: LedgerReceipt) {
        sequence = receipt.sequence
        kind = receipt.kind.rawValue
        balancesAfter = Dictionary(uniqueKeysWithValues: receipt.balancesAfter.map { ($0.key.rawValue, $0.value) })
        replayed = receipt.replayed
    }

}

/// One leg of a trade travelling to the receiver's home region.
public struct TradeDeliveryMessage: Sendable, Hashable {
    public var tradeID: UUID
    public var giver: UUID
    public var receiver: UUID
    public var items: [String: Int64]

    init(_ delivery: TradeDelivery) {
        tradeID = delivery.tradeID
        giver = delivery.giver
        receiver = delivery.receiver
        items = Dictionary(uniqueKeysWithValues: delivery.items.map { ($0.key.rawValue, $0.value) })
    }

    var delivery: TradeDelivery {
        TradeDelivery(tradeID: tradeID, giver: giver, receiver: receiver, items: ItemQuantities(items))
    }

}

/// What the receiver's region did with a delivery.
public struct DeliveryOutcome: Sendable, Hashable {
    /// True: credited (now or on an earlier delivery). False: refused for good (e.g. the
    /// receiver does not exist); the giver is refunded.
    public var accepted: Bool
    public var reason: String

    public init(accepted: Bool, reason: String) {
        self.accepted = accepted
        self.reason = reason
    }

}

extension ItemQuantities {
    /// From wire form (item names as strings).
    public init(_ counts: [String: Int64]) {
        self = Dictionary(uniqueKeysWithValues: counts.map { (ItemKind($0.key), $0.value) })
    }
}
