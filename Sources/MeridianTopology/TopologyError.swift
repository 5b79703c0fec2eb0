import MeridianYAML

/// One problem in a topology file, located so an editor or terminal can jump to it.
public struct TopologyIssue: Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is, stable for tools and tests (the message wording may change).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// Short identifier such as `unknown-key`.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The file could not be read.
        public static let unreadable = Code("unreadable")
        /// The text is not valid YAML.
        public static let syntax = Code("syntax")
        /// A required key is absent.
        public static let missingField = Code("missing-field")
        /// A value has the wrong YAML type (a list where a name is expected, text where a number is expected…).
        public static let wrongType = Code("wrong-type")
        /// A key that the topology format does not know, usually a typo.
        public static let unknownKey = Code("unknown-key")
        /// The same key twice in one mapping (for example a region defined twice).
        public static let duplicateKey = Code("duplicate-key")
        /// Two nodes with the same id.
        public static let duplicateNode = Code("duplicate-node")
        /// A reference to a region that is not defined.
        public static let unknownRegion = Code("unknown-region")
        /// A region without nodes.
        public static let emptyRegion = Code("empty-region")
        /// Two endpoints on the same host:port.
        public static let addressClash = Code("address-clash")
        /// An address that does not parse or has a port outside 1...65535.
        public static let badAddress = Code("bad-address")
        /// A seed that is not a node of the topology, or a seed listed twice.
        public static let badSeed = Code("bad-seed")
        /// An empty seed list.
        public static let noSeeds = Code("no-seeds")
        /// A `latency_ms` entry that is malformed, negative or repeated.
        public static let badLatency = Code("bad-latency")
        /// A value outside its allowed range or format (shards, version, names, storage).
        public static let badValue = Code("bad-value")
    }

    /// The file the issue is in, as given to the loader.
    public var file: String
    /// 1-based line; 0 when the topology did not come from a file.
    public var line: Int
    /// 1-based column; 0 when unknown.
    public var column: Int
    /// The kind of problem.
    public var code: Code
    /// What is wrong and, where it helps, what to do about it.
    public var message: String

    /// Creates an issue.
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

// The shared YAML reader (MeridianYAML) reports its own findings with these codes.
extension TopologyIssue: YAMLIssue {}
extension TopologyIssue.Code: YAMLIssueCode {}

/// A topology that was rejected, with every problem found (never just the first).
public struct TopologyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// All problems, ordered by position in the file.
    public var issues: [TopologyIssue]

    /// Creates an error; issues are ordered by line and column.
    public init(issues: [TopologyIssue]) {
        self.issues = TopologyIssue.sortedByPosition(issues)
    }

    /// One `file:line:column: error: message` line per issue.
    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
