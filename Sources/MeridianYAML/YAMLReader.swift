import Yams

package typealias YAMLNode = Yams.Node

/// Typed access to a composed YAML tree that reports each mismatch (with its position) instead of throwing.
package struct YAMLReader<Issue: YAMLIssue> {
    package struct Entry {
        package var key: Located<String>
        package var value: YAMLNode

        package init(key: Located<String>, value: YAMLNode) {
            self.key = key
            self.value = value
        }
    }

    package var issues: IssueCollector<Issue>
    package let duplicates: DuplicateKeys

    package init(issues: IssueCollector<Issue>, duplicates: DuplicateKeys) {
        self.issues = issues
        self.duplicates = duplicates
    }

    /// The entries of a mapping in file order, each key once. A repeated key is reported at every repeat,
    /// and the first definition is the one kept.
    package mutating func entries(of mapping: YAMLNode.Mapping, repeated: (String, SourceLocation) -> String) -> [Entry] {
        var occurrences: [String: [Entry]] = [:]
        var order: [String] = []
        for (keyNode, value) in mapping {
            let keyLocation = locate(keyNode)
            guard case .scalar(let scalar) = keyNode, YAMLNodes.tagName(keyNode) != .null else {
                issues.add(.wrongType, at: keyLocation, "keys must be plain names, found \(YAMLNodes.describe(keyNode))")
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
    package mutating func fields(
        of node: YAMLNode, what: String, required: [String], optional: [String] = []
    ) -> [String: Entry]? {
        guard case .mapping(let mapping) = node else {
            issues.add(.wrongType, at: locate(node), "\(what) must be a mapping of keys to values, found \(YAMLNodes.describe(node))")
            return nil
        }
        let allowed = required + optional
        var result: [String: Entry] = [:]
        for entry in entries(of: mapping, repeated: { key, first in "key '\(key)' is repeated in \(what); first given\(first.lineSuffix)" }) {
            let key = entry.key.value
            guard allowed.contains(key) else {
                var message = "unknown key '\(key)' in \(what)"
                if let suggestion = YAMLNodes.closest(to: key, among: allowed) {
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
    package mutating func string(_ entry: Entry?, what: String) -> Located<String>? {
        guard let entry else { return nil }
        guard case .scalar(let scalar) = entry.value, YAMLNodes.tagName(entry.value) != .null else {
            issues.add(.wrongType, at: location(of: entry), "\(what) must be text, found \(YAMLNodes.describe(entry.value))")
            return nil
        }
        return Located(scalar.string, at: location(of: entry))
    }

    /// A whole number written as a YAML integer (a quoted "16" is text, and is refused as such).
    package mutating func integer(_ entry: Entry?, what: String) -> Located<Int>? {
        guard let entry else { return nil }
        guard case .scalar(let scalar) = entry.value, YAMLNodes.tagName(entry.value) == .int else {
            issues.add(.wrongType, at: location(of: entry), "\(what) must be a whole number, found \(YAMLNodes.describe(entry.value))")
            return nil
        }
        guard let value = entry.value.int else {
            issues.add(.badValue, at: location(of: entry), "\(what) \(scalar.string) is out of range")
            return nil
        }
        return Located(value, at: location(of: entry))
    }

    /// A list of names.
    package mutating func stringList(_ entry: Entry?, what: String) -> Located<[Located<String>]>? {
        guard let entry else { return nil }
        guard case .sequence(let sequence) = entry.value else {
            issues.add(.wrongType, at: location(of: entry), "\(what) must be a list, found \(YAMLNodes.describe(entry.value))")
            return nil
        }
        let items = sequence.compactMap { item in
            string(Entry(key: entry.key, value: item), what: "each entry of \(what)")
        }
        return Located(items, at: location(of: entry))
    }

    /// Where a node was written in the user's file.
    package func locate(_ node: YAMLNode) -> SourceLocation {
        duplicates.userLocation(SourceLocation(node.mark))
    }

    /// Where a value was written; an empty value (`key:`) has no useful position of its own, so use the key's.
    package func location(of entry: Entry) -> SourceLocation {
        let valueLocation = locate(entry.value)
        if case .scalar(let scalar) = entry.value, scalar.string.isEmpty, scalar.style == .plain {
            return entry.key.location
        }
        return valueLocation == .none ? entry.key.location : valueLocation
    }
}
