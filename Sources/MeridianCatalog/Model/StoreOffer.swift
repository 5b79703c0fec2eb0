import Foundation

/// Something the store sells: `count` units of an item for a price in a currency item.
public struct StoreOffer: Sendable, Hashable {
    /// Stable id, e.g. `offer.sword-iron`; purchases refer to it.
    public var id: String
    /// Id of the item granted.
    public var item: String
    /// Units granted per purchase (at least 1).
    public var count: UInt64
    public var price: Price
    /// When the offer can be bought; `nil` = always.
    public var availability: AvailabilityWindow?

    public init(id: String, item: String, count: UInt64 = 1, price: Price, availability: AvailabilityWindow? = nil) {
        self.id = id
        self.item = item
        self.count = count
        self.price = price
        self.availability = availability
    }

    /// Whether the offer can be bought at `date`.
    public func isAvailable(at date: Date) -> Bool {
        availability?.contains(date) ?? true
    }

    /// An amount of a currency item.
    public struct Price: Sendable, Hashable {
        /// Id of an item of category ``ItemCategory/currency``.
        public var currency: String
        public var amount: UInt64

        public init(currency: String, amount: UInt64) {
            self.currency = currency
            self.amount = amount
        }
    }
}

/// A time window, open at either end; times are whole milliseconds (what the wire keeps).
public struct AvailabilityWindow: Sendable, Hashable {
    /// First instant the offer is available; `nil` = since always.
    public var from: Date?
    /// First instant the offer is no longer available; `nil` = forever.
    public var until: Date?

    public init(from: Date? = nil, until: Date? = nil) {
        self.from = from.map(Self.wholeMilliseconds)
        self.until = until.map(Self.wholeMilliseconds)
    }

    /// `from <= date < until`.
    public func contains(_ date: Date) -> Bool {
        if let from, date < from { return false }
        if let until, date >= until { return false }
        return true
    }

    static func wholeMilliseconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }
}
