import Yams

/// A 1-based line and column in a YAML file; `.none` for values that did not come from a file.
package struct SourceLocation: Sendable, Hashable, Comparable {
    package var line: Int
    package var column: Int

    package static let none = SourceLocation(line: 0, column: 0)

    package init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    package init(_ mark: Mark?) {
        self.init(line: mark?.line ?? 0, column: mark?.column ?? 0)
    }

    package static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }

    /// ` at line N` to point a message at an earlier definition; empty when the line is unknown.
    package var lineSuffix: String { line > 0 ? " at line \(line)" : "" }
}

/// A value and where it was written.
package struct Located<Value> {
    package var value: Value
    package var location: SourceLocation

    package init(_ value: Value, at location: SourceLocation = .none) {
        self.value = value
        self.location = location
    }
}

extension Located: Sendable where Value: Sendable {}
