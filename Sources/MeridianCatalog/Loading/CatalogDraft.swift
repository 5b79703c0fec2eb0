import Foundation
import MeridianYAML

/// A catalog as written, before validation: every value remembers where it was written, and anything
/// missing or malformed is `nil` (already reported), so validation goes on past it.
struct CatalogDraft {
    struct ItemDraft {
        var location: SourceLocation
        var id: Located<String>?
        var name: Located<String>?
        var category: Located<String>?
        var stackable: Located<Bool>?
        var maxStack: Located<Int>?
        var tradeable: Located<Bool>?
    }

    struct OfferDraft {
        var location: SourceLocation
        var id: Located<String>?
        var item: Located<String>?
        var count: Located<Int>?
        var currency: Located<String>?
        var amount: Located<Int>?
        var from: Located<Date>?
        var until: Located<Date>?
    }

    struct ConfigDraft {
        var key: Located<String>
        var value: ConfigValue?
    }

    struct FlagDraft {
        var name: Located<String>
        var enabled: Located<Bool>?
        var rollout: Located<Double>?
        var summary: Located<String>?
    }

    var items: [ItemDraft] = []
    var offers: [OfferDraft] = []
    var config: [ConfigDraft] = []
    var flags: [FlagDraft] = []

    init() {}

    /// A draft of content built in code or received from another node: no locations.
    init(_ content: CatalogContent) {
        items = content.items.map { item in
            ItemDraft(
                location: .none, id: Located(item.id), name: Located(item.name), category: Located(item.category.rawValue),
                stackable: Located(item.stackable),
                maxStack: item.stackable ? item.maxStack.map { Located(Int(clamping: $0)) } : nil,
                tradeable: Located(item.tradeable)
            )
        }
        offers = content.offers.map { offer in
            OfferDraft(
                location: .none, id: Located(offer.id), item: Located(offer.item), count: Located(Int(clamping: offer.count)),
                currency: Located(offer.price.currency), amount: Located(Int(clamping: offer.price.amount)),
                from: offer.availability?.from.map { Located($0) }, until: offer.availability?.until.map { Located($0) }
            )
        }
        config = content.config.values.sorted { $0.key < $1.key }.map { ConfigDraft(key: Located($0.key), value: $0.value) }
        flags = content.flags.map { flag in
            FlagDraft(name: Located(flag.name), enabled: Located(flag.enabled), rollout: Located(flag.rollout.percent), summary: Located(flag.summary))
        }
    }

    /// The content, once validation found nothing wrong; `nil` if a required value is missing.
    func content() -> CatalogContent? {
        var items: [ItemDefinition] = []
        for item in self.items {
            guard let id = item.id, let name = item.name, let category = item.category, (item.maxStack?.value ?? 1) >= 1 else { return nil }
            items.append(ItemDefinition(
                id: id.value, name: name.value, category: ItemCategory(rawValue: category.value),
                stackable: item.stackable?.value, maxStack: item.maxStack.map { UInt64($0.value) },
                tradeable: item.tradeable?.value ?? false
            ))
        }
        var offers: [StoreOffer] = []
        for offer in self.offers {
            guard let id = offer.id, let item = offer.item, let currency = offer.currency, let amount = offer.amount,
                  amount.value >= 0, (offer.count?.value ?? 1) >= 1
            else { return nil }
            let window = offer.from == nil && offer.until == nil ? nil : AvailabilityWindow(from: offer.from?.value, until: offer.until?.value)
            offers.append(StoreOffer(
                id: id.value, item: item.value, count: UInt64(offer.count?.value ?? 1),
                price: .init(currency: currency.value, amount: UInt64(amount.value)), availability: window
            ))
        }
        var config: [String: ConfigValue] = [:]
        for entry in self.config {
            guard let value = entry.value else { return nil }
            config[entry.key.value] = value
        }
        var flags: [FeatureFlag] = []
        for flag in self.flags {
            let rollout: Rollout? = if let percent = flag.rollout { Rollout(percent: percent.value) } else { .everyone }
            guard let enabled = flag.enabled, let rollout else { return nil }
            flags.append(FeatureFlag(name: flag.name.value, enabled: enabled.value, rollout: rollout, summary: flag.summary?.value ?? ""))
        }
        return CatalogContent(items: items, offers: offers, config: GameConfig(config), flags: flags)
    }
}
