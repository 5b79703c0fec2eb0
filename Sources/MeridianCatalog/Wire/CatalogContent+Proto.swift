import Foundation
import MeridianWire
import SwiftProtobuf

extension CatalogContent {
    /// The content in its wire form, lists in the order they are in.
    package var proto: Meridian_Catalog_V1_CatalogContent {
        var message = Meridian_Catalog_V1_CatalogContent()
        message.items = items.map { item in
            var proto = Meridian_Catalog_V1_Item()
            proto.id = item.id
            proto.name = item.name
            proto.kind = item.category.rawValue
            proto.stackable = item.stackable
            proto.maxStack = item.stackable ? item.maxStack ?? 0 : 1
            proto.tradeable = item.tradeable
            return proto
        }
        message.offers = offers.map { offer in
            var proto = Meridian_Catalog_V1_Offer()
            proto.id = offer.id
            proto.item = offer.item
            proto.count = offer.count
            proto.currency = offer.price.currency
            proto.price = offer.price.amount
            if let from = offer.availability?.from { proto.availableFromMs = Self.milliseconds(from) }
            if let until = offer.availability?.until { proto.availableUntilMs = Self.milliseconds(until) }
            return proto
        }
        message.config = config.values.sorted { $0.key < $1.key }.map { key, value in
            var proto = Meridian_Catalog_V1_ConfigEntry()
            proto.key = key
            switch value {
            case .int(let value): proto.intValue = value
            case .double(let value): proto.doubleValue = value
            case .bool(let value): proto.boolValue = value
            case .string(let value): proto.stringValue = value
            }
            return proto
        }
        message.flags = flags.map { flag in
            var proto = Meridian_Catalog_V1_Flag()
            proto.name = flag.name
            proto.enabled = flag.enabled
            proto.rolloutBasisPoints = UInt32(flag.rollout.basisPoints)
            proto.description_p = flag.summary
            return proto
        }
        return message
    }

    /// Reads the wire form. Only decoding problems throw; whether the content makes sense is
    /// ``CatalogValidator``'s business.
    package init(proto: Meridian_Catalog_V1_CatalogContent) throws(CatalogWireError) {
        var items: [ItemDefinition] = []
        for item in proto.items {
            items.append(ItemDefinition(
                id: item.id, name: item.name, category: ItemCategory(rawValue: item.kind),
                stackable: item.stackable, maxStack: item.stackable && item.maxStack > 0 ? item.maxStack : nil,
                tradeable: item.tradeable
            ))
        }
        let offers = proto.offers.map { offer in
            let window: AvailabilityWindow? = offer.hasAvailableFromMs || offer.hasAvailableUntilMs
                ? AvailabilityWindow(
                    from: offer.hasAvailableFromMs ? Self.date(offer.availableFromMs) : nil,
                    until: offer.hasAvailableUntilMs ? Self.date(offer.availableUntilMs) : nil
                )
                : nil
            return StoreOffer(
                id: offer.id, item: offer.item, count: offer.count,
                price: .init(currency: offer.currency, amount: offer.price), availability: window
            )
        }
        var config: [String: ConfigValue] = [:]
        for entry in proto.config {
            switch entry.value {
            case .intValue(let value)?: config[entry.key] = .int(value)
            case .doubleValue(let value)?: config[entry.key] = .double(value)
            case .boolValue(let value)?: config[entry.key] = .bool(value)
            case .stringValue(let value)?: config[entry.key] = .string(value)
            case nil: throw CatalogWireError("config entry '\(entry.key)' has no value (sent by a newer version?)")
            }
        }
        var flags: [FeatureFlag] = []
        for flag in proto.flags {
            guard let rollout = Rollout(basisPoints: Int(flag.rolloutBasisPoints)) else {
                throw CatalogWireError("flag '\(flag.name)' has a rollout of \(flag.rolloutBasisPoints) basis points; at most 10000")
            }
            flags.append(FeatureFlag(name: flag.name, enabled: flag.enabled, rollout: rollout, summary: flag.description_p))
        }
        self.init(items: items, offers: offers, config: GameConfig(config), flags: flags)
    }

    /// The canonical serialized form (lists sorted, no maps): equal catalogs give equal bytes.
    package func encoded() -> [UInt8] {
        // Serializing a message without required fields cannot fail.
        (try? canonical.proto.serializedBytes()) ?? []
    }

    /// Decodes serialized content.
    package init(encoded bytes: [UInt8]) throws(CatalogWireError) {
        let message: Meridian_Catalog_V1_CatalogContent
        do {
            message = try Meridian_Catalog_V1_CatalogContent(serializedBytes: bytes)
        } catch {
            throw CatalogWireError("catalog content is not a valid CatalogContent message: \(error)")
        }
        try self.init(proto: message)
    }

    /// Milliseconds since 1970, clamped to `Int64`: a date read from another node's bytes
    /// (``date(_:)``) can be any `Int64` of milliseconds, and `Int64.max` comes back from the
    /// `Double` as 2^63, which `Int64(_:)` traps on.
    static func milliseconds(_ date: Date) -> Int64 {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        if milliseconds.isNaN { return 0 }
        if milliseconds >= Double(Int64.max) { return .max }
        if milliseconds <= Double(Int64.min) { return .min }
        return Int64(milliseconds)
    }

    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}

/// Bytes from another node (or a persisted file) that do not decode as a catalog.
public struct CatalogWireError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
