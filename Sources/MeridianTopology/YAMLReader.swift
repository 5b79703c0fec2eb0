import Yams

typealias YAMLNode = Yams.Node

/// Typed access to a composed YAML tree that reports each mismatch (with its position) instead of throwing.
struct YAMLReader {
    struct Entry {
        var key: Located<String>
        var value: YAMLNode
    }

    var issues: IssueCollector
    let duplicates: DuplicateKeys

    /// The entries of a mapping in file order, each key once. A repeated key is reported at every repeat,
    /// and the first definition is the one kept.
    mutating func entries(of mapping: YAMLNode.Mapping, repeated: (String, SourceLocation) -> String) -> [Entry] {
        var occurrences: [String: [Entry]] = [:]
        var order: [String] = []
        for (keyNode, value) in mapping {
            let keyLocation = locate(keyNode)
            guard case .scalar(let scalar) = keyNode, Self.tagName(keyNode) != .null else {
                issues.add(.wrongType, at: keyLocation, "keys must be plain names, found \(Self.describe(keyNode))")
                continue
            }
            var key = Located(scalar.string, at: keyLocation)
            if let original = duplicates.original(of: scalar.string) {
                key = Located(original.name, at: original.location)
            }
            if occurrences[key.value] == nil { order.append(key.value) }
            occurrences[key.value, default: []].append(Entry(key: key, value: value))
        }
        return order.compactMap { name in
            let all = (occurrences[name] ?? []).sorted { $0.key.location < $1.key.location }
            guard let first = all.first else { return nil }
            for duplicate in all.dropFirst() {
                issues.add(.duplicateKey, at: duplicate.key.location, repeated(name, first.key.location))
            }
            return first
        }
    }

    /// The fields of a mapping with a fixed set of keys: reports a non-mapping, unknown keys (with a
    /// suggestion for typos), repeated keys and missing required keys. `nil` if `node` is not a mapping.
    mutating func fields(
        of node: YAMLNode, what: String, required: [String], optional: [String] = []
    ) -> [String: Entry]? {
        guard case .mapping(let mapping) = node else {
            issues.add(.wrongType, at: locate(node), "\(what) must be a mapping of keys to values, found \(Self.describe(node))")
            return nil
        }
        let allowed = required + optional
        var result: [String: Entry] = [:]
        for entry in entries(of: mapping, repeated: { key, first in "key '\(key)' is repeated in \(what); first given\(first.lineSuffix)" }) {
            let key = entry.key.value
            guard allowed.contains(key) else {
                var message = "unknown key '\(key)' in \(what)"
                if let suggestion = Self.closest(to: key, among: allowed) {
                    message += "; did you mean '\(suggestion)'?"
                } else {
                    message += "; expected \(allowed.map { "'\($0)'" }.joined(separator: ", "))"
                }
                if key == "<<" { message += " (YAML merge keys are not supported: write the fields out)" }
                issues.add(.unknownKey, at: entry.key.location, message)
                continue
            }
            result[key] = entry
        }
        let missing = required.filter { result[$0] == nil }.map { "'\($0)'" }
        if !missing.isEmpty {
            let keys = missing.count == 1 ? "key \(missing[0])" : "keys \(missing.joined(separator: ", "))"
            issues.add(.missingField, at: locate(node), "\(what) is missing required \(keys)")
        }
        return result
    }

    /// A scalar as text. Numbers are accepted as names (`id: 7`); null, lists and mappings are not.
    mutating func string(_ entry: Entry?, what: String) -> Located<String>? {
        guard let entry else { return nil }
        guard case .scalar(let scalar) = entry.value, Self.tagName(entry.value) != .null else {
            issues.add(.wrongType, at: location(of: entry), "\(what) must be text, found \(Self.describe(entry.value))")
            return nil
        }
        return Located(scalar.string, at: location(of: entry))
    }

    /// A whole number written as a YAML integer (a quoted "16" is text, and is refused as such).
    mutating func integer(_ entry: Entry?, what: String) -> Located<Int>? {
        guard let entry else { return nil }
        guard case .scalar(let scalar) = entry.value, Self.tagName(entry.value) == .int else {
            issues.add(.wrongType, at: location(of: entry), "\(what) must be a whole number, found \(Self.describe(entry.value))")
            return nil
        }
        guard let value = entry.value.int else {
            issues.add(.badValue, at: location(of: entry), "\(what) \(scalar.string) is out of range")
            return nil
        }
        return Located(value, at: location(of: entry))
    }

    /// A `host:port` endpoint.
    mutating func hostPort(_ entry: Entry?, what: String) -> Located<HostPort>? {
        guard let text = string(entry, what: what) else { return nil }
        switch HostPort.parse(text.value) {
        case .success(let address):
            return Located(address, at: text.location)
        case .failure(let failure):
            issues.add(.badAddress, at: text.location, "\(what): \(failure.reason)")
            return nil
        }
    }

    /// A list of names.
    mutating func stringList(_ entry: Entry?, what: String) -> Located<[Located<String>]>? {
        guard let entry else { return nil }
        guard case .sequence(let sequence) = entry.value else {
            issues.add(.wrongType, at: location(of: entry), "\(what) must be a list, found \(Self.describe(entry.value))")
            return nil
        }
        let items = sequence.compactMap { item in
            string(Entry(key: entry.key, value: item), what: "each entry of \(what)")
        }
        return Located(items, at: location(of: entry))
    }

    /// Where a node was written in the user's file.
    func locate(_ node: YAMLNode) -> SourceLocation {
        duplicates.userLocation(SourceLocation(node.mark))
    }

    /// Where a value was written; an empty value (`key:`) has no useful position of its own, so use the key's.
    func location(of entry: Entry) -> SourceLocation {
        let valueLocation = locate(entry.value)
        if case .scalar(let scalar) = entry.value, scalar.string.isEmpty, scalar.style == .plain {
            return entry.key.location
        }
        return valueLocation == .none ? entry.key.location : valueLocation
    }

    /// The resolved YAML type of a node (`int`, `null`, `str`…); plain scalars are typed by the core schema.
    static func tagName(_ node: YAMLNode) -> Tag.Name {
        Tag.Name(rawValue: node.tag.rawValue)
    }

    /// How a node appears to a reader, for "found …" in messages.
    static func describe(_ node: YAMLNode) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch tagName(node) {
            case .null: return "nothing"
            case .int, .float: return "the number \(scalar.string)"
            case .bool: return "the boolean \(scalar.string)"
            default: return "the text '\(scalar.string.prefix(60))'"
            }
        }
    }

    /// The allowed key nearest to a typo, when it is close enough to be a plausible intent.
    static func closest(to key: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(key.lowercased(), $0)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(1, min(2, best.0.count / 3)) ? best.0 : nil
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
