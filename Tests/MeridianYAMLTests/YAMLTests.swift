import Foundation
import MeridianYAML
import Testing
import Yams

/// A minimal issue type, as each file format defines its own.
struct TestIssue: YAMLIssue, Hashable {
    struct Code: YAMLIssueCode {
        var rawValue: String
        static let unreadable = Code(rawValue: "unreadable")
        static let syntax = Code(rawValue: "syntax")
        static let missingField = Code(rawValue: "missing-field")
        static let wrongType = Code(rawValue: "wrong-type")
        static let unknownKey = Code(rawValue: "unknown-key")
        static let duplicateKey = Code(rawValue: "duplicate-key")
        static let badValue = Code(rawValue: "bad-value")
    }
    var file: String
    var line: Int
    var column: Int
    var code: Code
    var message: String
    var description: String { compilerStyleDescription }
}

/// Composes `yaml` and hands its root mapping's fields to `read`; returns what was read and the issues.
func read<T>(_ yaml: String, required: [String] = [], optional: [String], _ read: (inout YAMLReader<TestIssue>, [String: YAMLReader<TestIssue>.Entry]) -> T) -> (T?, [TestIssue]) {
    var issues = IssueCollector<TestIssue>(file: "t.yaml")
    guard let (root, duplicates) = YAMLComposer.compose(yaml, document: "test file", issues: &issues) else { return (nil, issues.issues) }
    var reader = YAMLReader(issues: issues, duplicates: duplicates)
    guard let fields = reader.fields(of: root, what: "the file", required: required, optional: optional) else { return (nil, reader.issues.issues) }
    let value = read(&reader, fields)
    return (value, TestIssue.sortedByPosition(reader.issues.issues))
}

@Suite("Shared YAML machinery: every issue at its line")
struct YAMLTests {
    @Test("aliases are found before composing, quoted stars and comments are not aliases")
    func aliases() {
        let text = "a: &x 1\nb: *x\nc: \"*not\"\nd: '*neither' # *comment\ne: [*x, 2]\nf: 2*3\n"
        let found = AliasScanner.aliases(in: text).map { "\($0.line):\($0.column)" }
        #expect(found == ["2:4", "5:5"])
    }

    @Test("a repeated key is reported at every repeat, pointing at the first, without hiding other problems")
    func repeatedKeys() {
        let (_, issues) = read("a: 1\nb: x\na: 2\nc: [1]\na: 3\n", optional: ["a", "b", "c"]) { reader, fields in
            reader.integer(fields["b"], what: "b")
        }
        let value1 = issues.map { "\($0.line):\($0.code.rawValue)" }
        #expect(value1 == ["2:wrong-type", "3:duplicate-key", "5:duplicate-key"])
        #expect(issues[1].message.contains("first given at line 1"))
    }

    @Test("a value on a line after a renamed duplicate keeps its column")
    func columnsAfterRename() {
        let (value, issues) = read("k: 1\nk: { x: 1 }\nn: true\n", optional: ["k", "n"]) { reader, fields in
            reader.boolean(fields["n"], what: "n")
        }
        #expect(value??.value == true)
        #expect(value??.location == SourceLocation(line: 3, column: 4))
        #expect(issues.map(\.line) == [2])
        #expect(issues.first?.column == 1)
    }

    @Test("typed scalars: booleans, numbers, whole numbers, text")
    func scalars() {
        let yaml = "b: true\nq: \"true\"\nn: 12.5\ni: 7\nt: seven\nz:\ninf: .inf\nl: [1]\n"
        let (values, issues) = read(yaml, optional: ["b", "q", "n", "i", "t", "z", "inf", "l"]) { reader, fields in
            (
                reader.boolean(fields["b"], what: "b")?.value,
                reader.boolean(fields["q"], what: "q")?.value,
                reader.number(fields["n"], what: "n")?.value,
                reader.number(fields["i"], what: "i")?.value,
                reader.integer(fields["t"], what: "t")?.value,
                reader.string(fields["z"], what: "z")?.value,
                reader.number(fields["inf"], what: "inf")?.value,
                reader.sequence(fields["l"], what: "l", expected: "numbers")?.count
            )
        }
        #expect(values?.0 == true)
        #expect(values?.1 == nil)
        #expect(values?.2 == 12.5)
        #expect(values?.3 == 7)
        #expect(values?.4 == nil)
        #expect(values?.5 == nil)
        #expect(values?.6 == nil)
        #expect(values?.7 == 1)
        let value2 = issues.map { "\($0.line):\($0.code.rawValue)" }
        #expect(value2 == ["2:wrong-type", "5:wrong-type", "6:wrong-type", "7:bad-value"])
    }

    @Test("unknown keys get a suggestion; missing keys are listed")
    func keys() {
        let (_, issues) = read("nme: x\n", required: ["name", "kind"], optional: []) { _, _ in 0 }
        #expect(issues.map(\.code.rawValue) == ["unknown-key", "missing-field"])
        let value3 = issues.map(\.message).contains { $0.contains("did you mean 'name'?") }
        #expect(value3)
        let value4 = issues.map(\.message).contains { $0.contains("missing required keys 'name', 'kind'") }
        #expect(value4)
    }

    @Test("syntax errors, empty documents and messages name the kind of file")
    func documents() {
        var issues = IssueCollector<TestIssue>(file: "t.yaml")
        #expect(YAMLComposer.compose("", document: "widget file", issues: &issues) == nil)
        #expect(YAMLComposer.compose("a: [\n", document: "widget file", issues: &issues) == nil)
        #expect(YAMLComposer.compose("a: &x 1\nb: *x\n", document: "widget file", issues: &issues) == nil)
        let descriptions = issues.issues.map(\.description)
        #expect(descriptions.count == 3)
        #expect(descriptions.first == "t.yaml:1:1: error: the widget file is empty")
        #expect(descriptions.dropFirst().first?.hasPrefix("t.yaml:2:1: error: invalid YAML: ") == true)
        #expect(descriptions.last == "t.yaml:2:4: error: YAML aliases (*name) are not supported in widget files; write the value out")
    }

    @Test("files: unreadable, too large, not UTF-8")
    func files() throws {
        #expect(throws: YAMLFile.Unreadable.self) { try YAMLFile.text(at: "/nonexistent.yaml", document: "test file", maximumSize: 100) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("yaml-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(repeating: 0x61, count: 200).write(to: URL(fileURLWithPath: path))
        do {
            _ = try YAMLFile.text(at: path, document: "test file", maximumSize: 100)
            Issue.record("read a file over the limit")
        } catch {
            #expect(error.problem == "is 200 bytes; test files are limited to 100 bytes")
        }
        try Data([0x61, 0xFF, 0xFE]).write(to: URL(fileURLWithPath: path))
        #expect(throws: YAMLFile.Unreadable.self) { try YAMLFile.text(at: path, document: "test file", maximumSize: 100) }
    }
}
