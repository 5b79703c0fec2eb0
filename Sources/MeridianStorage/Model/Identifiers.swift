import Foundation

/// A player's global identifier (assigned by the identity layer, never reused).
public typealias PlayerID = UUID

/// A match's identifier; match history is idempotent by it.
public typealias MatchID = UUID

/// A trade's identifier, chosen by whoever starts the trade; every leg of the trade is idempotent by it.
public typealias TradeID = UUID

/// The fencing epoch of a player's home-region assignment.
///
/// The identity directory increments it each time the player's home region moves. Every write to a
/// player's data carries the epoch its writer believes current; the store refuses the write, inside the
/// same transaction, when it differs from the stored epoch. A writer still running in the old home region
/// after a transfer is therefore fenced off.
public struct Epoch: RawRepresentable, Hashable, Comparable, Sendable, Codable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public init(integerLiteral value: Int64) { self.rawValue = value }

    /// The epoch a newly created player starts with.
    public static let initial: Epoch = 1

    /// The epoch after this one.
    public var next: Epoch { Epoch(rawValue + 1) }

    public static func < (lhs: Epoch, rhs: Epoch) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// The number of a player actor's activation in a region whose nodes share one store.
///
/// A node that starts serving a player claims the next activation in the store
/// (``RegionStore/claimActivation(of:node:)``); its actor presents that number with every write,
/// and the store refuses a write carrying an older one inside the write's transaction
/// (``StorageError/Code/activationLost(current:)``). A node that was declared down but kept
/// running (a long pause) therefore cannot write for a player another node re-activated: one
/// writer per player at any moment, whatever membership believes.
public struct Activation: RawRepresentable, Hashable, Comparable, Sendable, Codable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public init(integerLiteral value: Int64) { self.rawValue = value }

    public static func < (lhs: Activation, rhs: Activation) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// The kind of an inventory item or currency, as named by the item catalog (`"gold"`, `"sword.iron"`).
///
/// Conservation is checked per item kind: every unit that exists was created by a grant or a purchase.
public struct ItemKind: RawRepresentable, Hashable, Comparable, Sendable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public static func < (lhs: ItemKind, rhs: ItemKind) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }

    /// The longest item kind name the stores accept.
    public static let maximumLength = 128
}

/// Quantities per item kind. In requests every quantity is positive; in balances, zero or positive.
public typealias ItemQuantities = [ItemKind: Int64]
