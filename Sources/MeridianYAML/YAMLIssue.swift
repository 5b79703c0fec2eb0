/// The issue codes the shared YAML machinery reports itself. Each file format has its own public
/// code type (``YAMLIssue/Code``) with these and its own format-specific codes.
package protocol YAMLIssueCode: Sendable, Hashable {
    /// The file could not be read.
    static var unreadable: Self { get }
    /// The text is not valid YAML.
    static var syntax: Self { get }
    /// A required key is absent.
    static var missingField: Self { get }
    /// A value has the wrong YAML type.
    static var wrongType: Self { get }
    /// A key the format does not know, usually a typo.
    static var unknownKey: Self { get }
    /// The same key twice in one mapping.
    static var duplicateKey: Self { get }
    /// A value outside its allowed range or format.
    static var badValue: Self { get }
}

/// One located problem in a YAML file. Topology and catalog files each have their own public issue
/// type (so a module's users see one self-contained type); this protocol lets them share the reader,
/// the collector and the formatting.
package protocol YAMLIssue: Sendable, CustomStringConvertible {
    associatedtype Code: YAMLIssueCode
    var file: String { get }
    /// 1-based; 0 when unknown.
    var line: Int { get }
    /// 1-based; 0 when unknown.
    var column: Int { get }
    var code: Code { get }
    var message: String { get }
    init(file: String, line: Int, column: Int, code: Code, message: String)
}

extension YAMLIssue {
    /// `file:line:column: error: message`, the format compilers use so editors can jump to it.
    package var compilerStyleDescription: String {
        switch (line, column) {
        case (0, _): "\(file): error: \(message)"
        case (_, 0): "\(file):\(line): error: \(message)"
        default: "\(file):\(line):\(column): error: \(message)"
        }
    }

    /// `issues` ordered by line and column; issues found on one spot keep the order the checks found them in.
    package static func sortedByPosition(_ issues: [Self]) -> [Self] {
        issues.enumerated().sorted { lhs, rhs in
            (lhs.element.line, lhs.element.column, lhs.offset) < (rhs.element.line, rhs.element.column, rhs.offset)
        }.map(\.element)
    }
}
