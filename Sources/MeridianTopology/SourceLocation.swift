import Yams

/// A 1-based line and column in a topology file; `.none` for values that did not come from a file.
struct SourceLocation: Sendable, Hashable, Comparable {
    var line: Int
    var column: Int

    static let none = SourceLocation(line: 0, column: 0)

    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    init(_ mark: Mark?) {
        self.init(line: mark?.line ?? 0, column: mark?.column ?? 0)
    }

    static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }

    /// ` at line N` to point a message at an earlier definition; empty when the line is unknown.
    var lineSuffix: String { line > 0 ? " at line \(line)" : "" }
}

/// A value and where it was written.
struct Located<Value> {
    var value: Value
    var location: SourceLocation

    init(_ value: Value, at location: SourceLocation = .none) {
        self.value = value
        self.location = location
    }
}

/// Gathers issues for one file; every check adds to it and none stops the others.
struct IssueCollector {
    let file: String
    private(set) var issues: [TopologyIssue] = []

    init(file: String) {
        self.file = file
    }

    var isEmpty: Bool { issues.isEmpty }

    mutating func add(_ code: TopologyIssue.Code, at location: SourceLocation, _ message: String) {
        issues.append(TopologyIssue(file: file, line: location.line, column: location.column, code: code, message: message))
    }
}
