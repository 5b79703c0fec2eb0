import Yams

extension YAMLReader {
    /// `true` or `false` written as a YAML boolean (a quoted "true" is text, and is refused as such).
    package mutating func boolean(_ entry: Entry?, what: String) -> Located<Bool>? {
        guard let entry else { return nil }
        guard YAMLNodes.tagName(entry.value) == .bool, let value = entry.value.bool else {
            issues.add(.wrongType, at: location(of: entry), "\(what) must be true or false, found \(YAMLNodes.describe(entry.value))")
            return nil
        }
        return Located(value, at: location(of: entry))
    }

    /// A finite number written as a YAML integer or float (`10`, `12.5`); text, `.inf` and `.nan` are refused.
    package mutating func number(_ entry: Entry?, what: String) -> Located<Double>? {
        guard let entry else { return nil }
        let tag = YAMLNodes.tagName(entry.value)
        let parsed: Double? = tag == .int ? entry.value.int.map { Double($0) } : entry.value.float
        guard tag == .int || tag == .float, let value = parsed else {
            issues.add(.wrongType, at: location(of: entry), "\(what) must be a number, found \(YAMLNodes.describe(entry.value))")
            return nil
        }
        guard value.isFinite else {
            issues.add(.badValue, at: location(of: entry), "\(what) must be a finite number, found \(YAMLNodes.describe(entry.value))")
            return nil
        }
        return Located(value, at: location(of: entry))
    }

    /// The entries of a mapping whose keys are names chosen by the file's author (`config:`, `flags:`);
    /// `nil` (with an issue) when the value is not a mapping. An empty value (`key:`) is an empty mapping.
    package mutating func namedEntries(
        _ entry: Entry?, what: String, expected: String, repeated: (String, SourceLocation) -> String
    ) -> [Entry]? {
        guard let entry else { return nil }
        if YAMLNodes.tagName(entry.value) == .null { return [] }
        guard case .mapping(let mapping) = entry.value else {
            issues.add(.wrongType, at: location(of: entry), "\(what) must be a mapping of \(expected), found \(YAMLNodes.describe(entry.value))")
            return nil
        }
        return entries(of: mapping, repeated: repeated)
    }

    /// The items of a list; `nil` (with an issue) when the value is not a list. An empty value is an empty list.
    package mutating func sequence(_ entry: Entry?, what: String, expected: String) -> [YAMLNode]? {
        guard let entry else { return nil }
        if YAMLNodes.tagName(entry.value) == .null { return [] }
        guard case .sequence(let sequence) = entry.value else {
            issues.add(.wrongType, at: location(of: entry), "\(what) must be a list of \(expected), found \(YAMLNodes.describe(entry.value))")
            return nil
        }
        return Array(sequence)
    }
}
