/// Gathers issues for one file; every check adds to it and none stops the others.
package struct IssueCollector<Issue: YAMLIssue> {
    package let file: String
    package private(set) var issues: [Issue] = []

    package init(file: String) {
        self.file = file
    }

    package var isEmpty: Bool { issues.isEmpty }

    package mutating func add(_ code: Issue.Code, at location: SourceLocation, _ message: String) {
        issues.append(Issue(file: file, line: location.line, column: location.column, code: code, message: message))
    }
}
