import Yams

/// Facts about composed YAML nodes that every reader needs, worded for messages.
package enum YAMLNodes {
    /// The resolved YAML type of a node (`int`, `null`, `str`…); plain scalars are typed by the core schema.
    package static func tagName(_ node: YAMLNode) -> Tag.Name {
        Tag.Name(rawValue: node.tag.rawValue)
    }

    /// How a node appears to a reader, for "found …" in messages.
    package static func describe(_ node: YAMLNode) -> String {
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
    package static func closest(to key: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(key.lowercased(), $0)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(1, min(2, best.0.count / 3)) ? best.0 : nil
    }

    package static func editDistance(_ a: String, _ b: String) -> Int {
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
