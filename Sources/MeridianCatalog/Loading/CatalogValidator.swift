import MeridianYAML

/// Checks that a catalog makes sense as a whole: ids are well-formed and unique, offers sell defined
/// items for defined currencies, numbers and percentages are in range. Runs on drafts from files and on
/// content received over the wire alike, so a bad catalog is refused wherever it comes from.
enum CatalogValidator {
    /// Largest rollout, in percent.
    static let maximumPercent = 100.0

    static func check(_ draft: CatalogDraft, into issues: inout CatalogIssues) {
        let items = checkItems(draft, &issues)
        checkOffers(draft, items: items, &issues)
        for entry in draft.config {
            if let problem = nameProblem(entry.key.value) {
                issues.add(.badValue, at: entry.key.location, "config key '\(entry.key.value)' \(problem)")
            }
        }
        for flag in draft.flags {
            checkFlag(flag, &issues)
        }
    }

    /// Returns the category of every item defined (first definition of each id).
    private static func checkItems(_ draft: CatalogDraft, _ issues: inout CatalogIssues) -> [String: Located<String>?] {
        var categories: [String: Located<String>?] = [:]
        var firstByID: [String: SourceLocation] = [:]
        for item in draft.items {
            if let id = item.id {
                if let problem = nameProblem(id.value) {
                    issues.add(.badValue, at: id.location, "item id '\(id.value)' \(problem)")
                } else if let first = firstByID[id.value] {
                    issues.add(.duplicateID, at: id.location, "item id '\(id.value)' is used twice; first used\(first.lineSuffix)")
                } else {
                    firstByID[id.value] = id.location
                    categories[id.value] = item.category
                }
            }
            if let name = item.name, name.value.allSatisfy(\.isWhitespace) {
                issues.add(.badValue, at: name.location, "name of item '\(item.id?.value ?? "?")' is empty")
            }
            if let category = item.category, !ItemCategory.known.contains(ItemCategory(rawValue: category.value)) {
                var message = "category '\(category.value)' of item '\(item.id?.value ?? "?")' is not one of "
                    + ItemCategory.known.map(\.rawValue).joined(separator: ", ")
                if let suggestion = YAMLNodes.closest(to: category.value, among: ItemCategory.known.map(\.rawValue)) {
                    message += "; did you mean '\(suggestion)'?"
                }
                issues.add(.badValue, at: category.location, message)
            }
            if let maxStack = item.maxStack {
                let stackable = item.stackable?.value ?? item.category.map { ItemCategory(rawValue: $0.value).stacksByDefault } ?? true
                if maxStack.value < 1 {
                    issues.add(.badValue, at: maxStack.location, "max_stack of item '\(item.id?.value ?? "?")' must be at least 1, found \(maxStack.value)")
                } else if !stackable && maxStack.value != 1 {
                    issues.add(.badValue, at: maxStack.location,
                               "item '\(item.id?.value ?? "?")' does not stack, so max_stack \(maxStack.value) means nothing; set stackable: true or remove max_stack")
                }
            }
        }
        return categories
    }

    private static func checkOffers(_ draft: CatalogDraft, items: [String: Located<String>?], _ issues: inout CatalogIssues) {
        var firstByID: [String: SourceLocation] = [:]
        let itemIDs = Array(items.keys).sorted()
        for offer in draft.offers {
            let what = "offer '\(offer.id?.value ?? "?")'"
            if let id = offer.id {
                if let problem = nameProblem(id.value) {
                    issues.add(.badValue, at: id.location, "offer id '\(id.value)' \(problem)")
                } else if let first = firstByID[id.value] {
                    issues.add(.duplicateID, at: id.location, "offer id '\(id.value)' is used twice; first used\(first.lineSuffix)")
                } else {
                    firstByID[id.value] = id.location
                }
            }
            if let item = offer.item, items[item.value] == nil {
                issues.add(.unknownItem, at: item.location, "\(what) sells unknown item '\(item.value)'\(suggestion(item.value, among: itemIDs))")
            }
            if let currency = offer.currency {
                switch items[currency.value] {
                case nil:
                    issues.add(.unknownCurrency, at: currency.location,
                               "\(what) is priced in unknown item '\(currency.value)'\(suggestion(currency.value, among: itemIDs))")
                case let category?? where category.value != ItemCategory.currency.rawValue:
                    issues.add(.unknownCurrency, at: currency.location,
                               "\(what) is priced in '\(currency.value)', an item of category \(category.value); prices are paid in items of category currency")
                default:
                    if currency.value == offer.item?.value {
                        issues.add(.badValue, at: currency.location, "\(what) sells '\(currency.value)' for itself")
                    }
                }
            }
            if let count = offer.count, count.value < 1 {
                issues.add(.badValue, at: count.location, "count of \(what) must be at least 1, found \(count.value)")
            }
            if let amount = offer.amount, amount.value < 0 {
                issues.add(.badValue, at: amount.location, "price amount of \(what) must be 0 or more, found \(amount.value)")
            }
            if let from = offer.from, let until = offer.until, until.value <= from.value {
                issues.add(.badValue, at: until.location, "available.until of \(what) must be after available.from (line \(from.location.line))")
            }
        }
    }

    private static func checkFlag(_ flag: CatalogDraft.FlagDraft, _ issues: inout CatalogIssues) {
        if let problem = nameProblem(flag.name.value) {
            issues.add(.badValue, at: flag.name.location, "flag name '\(flag.name.value)' \(problem)")
        }
        guard let rollout = flag.rollout else { return }
        if !(0...maximumPercent).contains(rollout.value) {
            issues.add(.badPercentage, at: rollout.location,
                       "rollout of flag '\(flag.name.value)' must be a percentage from 0 to 100, found \(formatted(rollout.value))")
        } else if Rollout(percent: rollout.value) == nil {
            issues.add(.badPercentage, at: rollout.location,
                       "rollout of flag '\(flag.name.value)' is finer than 0.01 % (\(formatted(rollout.value))); round it to two decimals")
        }
    }

    /// Ids and names: letters, digits, '-', '_' and '.' (they appear in logs, URLs and ledgers).
    static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.count > 128 { return "is longer than 128 characters" }
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.".unicodeScalars.contains(scalar))
        }
        return allowed ? nil : "may contain only letters, digits, '-', '_' and '.'"
    }

    /// `150` rather than `150.0`.
    private static func formatted(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    private static func suggestion(_ name: String, among names: [String]) -> String {
        if let closest = YAMLNodes.closest(to: name, among: names) { return "; did you mean '\(closest)'?" }
        return names.isEmpty ? "; the catalog defines no items" : ""
    }
}

extension CatalogContent {
    /// Checks content built in code or received from another node with the same rules as a file.
    /// Issues carry no line numbers; `source` names the content in messages.
    public func validate(source: String = "<catalog>") throws(CatalogError) {
        var issues = CatalogIssues(file: source)
        CatalogValidator.check(CatalogDraft(self), into: &issues)
        guard issues.isEmpty else { throw CatalogError(issues: issues.issues) }
    }
}
