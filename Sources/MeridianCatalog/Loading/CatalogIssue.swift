import MeridianYAML

/// One problem in a catalog file, located so an editor or terminal can jump to it.
public struct CatalogIssue: Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is, stable for tools and tests (the message wording may change).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// Short identifier such as `unknown-item`.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The file could not be read.
        public static let unreadable = Code("unreadable")
        /// The text is not valid YAML.
        public static let syntax = Code("syntax")
        /// A required key is absent.
        public static let missingField = Code("missing-field")
        /// A value has the wrong YAML type (text where a number is expected, a list where a mapping is…).
        public static let wrongType = Code("wrong-type")
        /// A key the catalog format does not know, usually a typo.
        public static let unknownKey = Code("unknown-key")
        /// The same key twice in one mapping (a config key or a flag given twice).
        public static let duplicateKey = Code("duplicate-key")
        /// Two items, or two offers, with the same id.
        public static let duplicateID = Code("duplicate-id")
        /// An offer that sells an item the catalog does not define.
        public static let unknownItem = Code("unknown-item")
        /// An offer priced in an item that is not defined or is not of category `currency`.
        public static let unknownCurrency = Code("unknown-currency")
        /// A flag rollout outside 0…100 % or finer than 0.01 %.
        public static let badPercentage = Code("bad-percentage")
        /// A value outside its allowed range or format (ids, counts, prices, times, categories).
        public static let badValue = Code("bad-value")
    }

    /// The file the issue is in, as given to the loader.
    public var file: String
    /// 1-based line; 0 when the catalog did not come from a file.
    public var line: Int
    /// 1-based column; 0 when unknown.
    public var column: Int
    public var code: Code
    /// What is wrong and, where it helps, what to do about it.
    public var message: String

    public init(file: String, line: Int, column: Int, code: Code, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.code = code
        self.message = message
    }

    /// `file:line:column: error: message`, the format compilers use so editors can jump to it.
    public var description: String { compilerStyleDescription }
}

extension CatalogIssue: YAMLIssue {}
extension CatalogIssue.Code: YAMLIssueCode {}

/// A catalog that was rejected, with every problem found (never just the first).
public struct CatalogError: Error, Sendable, Hashable, CustomStringConvertible {
    /// All problems, ordered by position in the file.
    public var issues: [CatalogIssue]

    public init(issues: [CatalogIssue]) {
        self.issues = CatalogIssue.sortedByPosition(issues)
    }

    /// One `file:line:column: error: message` line per issue.
    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}

/// Issues of one catalog file, gathered by the shared YAML machinery.
typealias CatalogIssues = IssueCollector<CatalogIssue>
