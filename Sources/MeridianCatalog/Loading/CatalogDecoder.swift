import Foundation
import MeridianYAML
import Yams

/// Reads the shape of a catalog file (keys, types, times) into a ``CatalogDraft``.
/// Cross-references and ranges (ids, offers' items and currencies, percentages) are ``CatalogValidator``'s job.
struct CatalogDecoder {
    /// Top-level keys of a catalog file.
    static let requiredKeys = ["items"]
    static let optionalKeys = ["offers", "config", "flags"]
    static let itemKeys = ["id", "name", "category"]
    static let optionalItemKeys = ["stackable", "max_stack", "tradeable"]
    static let offerKeys = ["id", "item", "price"]
    static let optionalOfferKeys = ["count", "available"]
    static let priceKeys = ["currency", "amount"]
    static let windowKeys = ["from", "until"]
    static let flagKeys = ["enabled"]
    static let optionalFlagKeys = ["rollout", "description"]

    var reader: YAMLReader<CatalogIssue>

    static func decode(_ root: YAMLNode, duplicates: DuplicateKeys, issues: inout CatalogIssues) -> CatalogDraft {
        var decoder = CatalogDecoder(reader: YAMLReader(issues: issues, duplicates: duplicates))
        let draft = decoder.decode(root)
        issues = decoder.reader.issues
        return draft
    }

    mutating func decode(_ root: YAMLNode) -> CatalogDraft {
        var draft = CatalogDraft()
        guard let fields = reader.fields(of: root, what: "the catalog", required: Self.requiredKeys, optional: Self.optionalKeys) else {
            return draft
        }
        let items = reader.sequence(fields["items"], what: "items", expected: "{ id, name, category }") ?? []
        draft.items = items.enumerated().map { item($0.element, index: $0.offset) }
        let offers = reader.sequence(fields["offers"], what: "offers", expected: "{ id, item, price }") ?? []
        draft.offers = offers.enumerated().map { offer($0.element, index: $0.offset) }
        let config = reader.namedEntries(fields["config"], what: "config", expected: "setting names to values") { key, first in
            "config key '\(key)' is given twice; first given\(first.lineSuffix)"
        } ?? []
        draft.config = config.map { CatalogDraft.ConfigDraft(key: $0.key, value: configValue($0)) }
        let flags = reader.namedEntries(fields["flags"], what: "flags", expected: "flag names to { enabled, rollout }") { name, first in
            "flag '\(name)' is defined twice; first defined\(first.lineSuffix)"
        } ?? []
        draft.flags = flags.map { flag($0) }
        return draft
    }

    /// "item 'gold'" when the id is readable, else "item #3".
    private func name(_ node: YAMLNode, _ kind: String, index: Int) -> String {
        if case .mapping(let mapping) = node, let id = mapping["id"]?.scalar?.string, !id.isEmpty {
            return "\(kind) '\(id)'"
        }
        return "\(kind) #\(index + 1)"
    }

    private mutating func item(_ node: YAMLNode, index: Int) -> CatalogDraft.ItemDraft {
        let what = name(node, "item", index: index)
        var item = CatalogDraft.ItemDraft(location: reader.locate(node))
        guard let fields = reader.fields(of: node, what: what, required: Self.itemKeys, optional: Self.optionalItemKeys) else {
            return item
        }
        item.id = reader.string(fields["id"], what: "id of \(what)")
        item.name = reader.string(fields["name"], what: "name of \(what)")
        item.category = reader.string(fields["category"], what: "category of \(what)")
        item.stackable = reader.boolean(fields["stackable"], what: "stackable of \(what)")
        item.maxStack = reader.integer(fields["max_stack"], what: "max_stack of \(what)")
        item.tradeable = reader.boolean(fields["tradeable"], what: "tradeable of \(what)")
        return item
    }

    private mutating func offer(_ node: YAMLNode, index: Int) -> CatalogDraft.OfferDraft {
        let what = name(node, "offer", index: index)
        var offer = CatalogDraft.OfferDraft(location: reader.locate(node))
        guard let fields = reader.fields(of: node, what: what, required: Self.offerKeys, optional: Self.optionalOfferKeys) else {
            return offer
        }
        offer.id = reader.string(fields["id"], what: "id of \(what)")
        offer.item = reader.string(fields["item"], what: "item of \(what)")
        offer.count = reader.integer(fields["count"], what: "count of \(what)")
        if let price = fields["price"],
           let priceFields = reader.fields(of: price.value, what: "price of \(what)", required: Self.priceKeys) {
            offer.currency = reader.string(priceFields["currency"], what: "currency of \(what)")
            offer.amount = reader.integer(priceFields["amount"], what: "price amount of \(what)")
        }
        if let window = fields["available"],
           let windowFields = reader.fields(of: window.value, what: "available of \(what)", required: [], optional: Self.windowKeys) {
            offer.from = time(windowFields["from"], what: "available.from of \(what)")
            offer.until = time(windowFields["until"], what: "available.until of \(what)")
        }
        return offer
    }

    private mutating func time(_ entry: YAMLReader<CatalogIssue>.Entry?, what: String) -> Located<Date>? {
        guard let text = reader.string(entry, what: what) else { return nil }
        guard let date = CatalogTime.parse(text.value) else {
            reader.issues.add(.badValue, at: text.location,
                              "\(what) '\(text.value)' is not a time; write ISO 8601 in UTC, e.g. 2025-06-01T12:00:00Z or 2025-06-01")
            return nil
        }
        return Located(date, at: text.location)
    }

    private mutating func configValue(_ entry: YAMLReader<CatalogIssue>.Entry) -> ConfigValue? {
        let what = "config '\(entry.key.value)'"
        switch YAMLNodes.tagName(entry.value) {
        case .int:
            guard let value = entry.value.int else {
                reader.issues.add(.badValue, at: reader.location(of: entry), "\(what) is out of range for a 64-bit whole number")
                return nil
            }
            return .int(Int64(value))
        case .float:
            return reader.number(entry, what: what).map { .double($0.value) }
        case .bool:
            return reader.boolean(entry, what: what).map { .bool($0.value) }
        default:
            guard case .scalar = entry.value, YAMLNodes.tagName(entry.value) != .null else {
                reader.issues.add(.wrongType, at: reader.location(of: entry),
                                  "\(what) must be a whole number, a number, true/false or text, found \(YAMLNodes.describe(entry.value))")
                return nil
            }
            return reader.string(entry, what: what).map { .string($0.value) }
        }
    }

    private mutating func flag(_ entry: YAMLReader<CatalogIssue>.Entry) -> CatalogDraft.FlagDraft {
        let what = "flag '\(entry.key.value)'"
        var flag = CatalogDraft.FlagDraft(name: entry.key)
        guard let fields = reader.fields(of: entry.value, what: what, required: Self.flagKeys, optional: Self.optionalFlagKeys) else {
            return flag
        }
        flag.enabled = reader.boolean(fields["enabled"], what: "enabled of \(what)")
        flag.rollout = reader.number(fields["rollout"], what: "rollout of \(what)")
        flag.summary = reader.string(fields["description"], what: "description of \(what)")
        return flag
    }
}

/// Times in catalog files: ISO 8601 with a zone (`2025-06-01T12:00:00Z`, `…+02:00`, fractions allowed),
/// or a date alone (`2025-06-01`, meaning midnight UTC).
enum CatalogTime {
    static func parse(_ text: String) -> Date? {
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds], [.withFullDate],
        ] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            formatter.timeZone = TimeZone(identifier: "UTC")
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
