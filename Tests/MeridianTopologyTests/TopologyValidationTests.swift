import Foundation
import MeridianTopology
import Testing

@Suite("Topology validation reports every problem at its line")
struct TopologyValidationTests {
    /// Line numbers matter here: each line below is the line number in the YAML.
    static let manyProblems = """
        cluster: ""
        version: 0
        regions:
          eu-west: { shards: 0, storage: "sqlite:data/eu-west" }
          us-east: { shard: 16, storage: "sqlite:data/us-east" }
          ap-south: { shards: 16, storage: "sqlite:data/ap-south" }
          eu-west: { shards: 8, storage: "sqlite:data/eu-west-again" }
        latency_ms:
          eu-west/us-east: -5
          eu-west-us-east: 40
          eu-west/mars: 70
        catalog_primary: moon
        identity_authority: eu-west
        seeds: [eu-west-1, ghost-1]
        nodes:
          - { id: eu-west-1, region: eu-west, cluster: "127.0.0.1:7401", gateway: "127.0.0.1:7501" }
          - { id: eu-west-1, region: eu-west, cluster: "127.0.0.1:7402", gateway: "127.0.0.1:7401" }
          - { id: us-east-1, region: us-east, cluster: "127.0.0.1:70000", gateway: "localhost" }
          - { id: x-1, region: pluto, cluster: "127.0.0.1:7403", gateway: "127.0.0.1:7503" }
        """

    @Test("a storage URL with a password is refused: any member can fetch the topology")
    func noPasswordInTheTopology() throws {
        let yaml = Fixtures.minimalYAML.replacingOccurrences(of: "sqlite:data/us-east", with: "postgres://meridian:hunter2@db/us_east")
        let issues = Fixtures.issues(yaml)
        #expect(issues.count == 1)
        #expect(issues.first?.message.contains("carries a password") == true)
        #expect(issues.first?.description.contains("hunter2") == false)
        let withFile = Fixtures.minimalYAML.replacingOccurrences(of: "sqlite:data/us-east", with: "postgres://meridian@db/us_east?password_file=/etc/meridian/db-password")
        #expect(throws: Never.self) { try TopologyLoader.parse(yaml: withFile) }
    }

    @Test("a file with many problems reports each one at its line")
    func manyProblemsReported() {
        let issues = Fixtures.issues(Self.manyProblems, file: "bad.yaml")
        let expected: Set<Finding> = [
            Finding(1, .badValue),        // empty cluster name
            Finding(2, .badValue),        // version 0
            Finding(4, .badValue),        // shards 0
            Finding(5, .unknownKey),      // shard:
            Finding(5, .missingField),    // …so shards is missing
            Finding(6, .emptyRegion),     // ap-south has no nodes
            Finding(7, .duplicateKey),    // eu-west again
            Finding(9, .badLatency),      // negative
            Finding(10, .badLatency),     // not a/b
            Finding(11, .unknownRegion),  // mars
            Finding(12, .unknownRegion),  // catalog_primary: moon
            Finding(14, .badSeed),        // ghost-1
            Finding(17, .duplicateNode),  // eu-west-1 again
            Finding(17, .addressClash),   // gateway on eu-west-1's cluster port
            Finding(18, .badAddress),     // port 70000
            Finding(18, .badAddress),     // no port at all
            Finding(19, .unknownRegion),  // pluto
        ]
        #expect(Set(issues.map(Finding.init)) == expected)
        #expect(issues.count == expected.count + 1, "two bad addresses on line 18: \(issues)")
        #expect(issues.map(\.line) == issues.map(\.line).sorted(), "issues are ordered by line")
        let value1 = issues.allSatisfy { $0.file == "bad.yaml" && $0.column > 0 }
        #expect(value1)
    }

    @Test("messages name the problem and point at earlier definitions")
    func messages() throws {
        let error = TopologyError(issues: Fixtures.issues(Self.manyProblems, file: "bad.yaml"))
        let lines = error.description.split(separator: "\n").map(String.init)
        let value2 = lines.allSatisfy { $0.hasPrefix("bad.yaml:") && $0.contains(": error: ") }
        #expect(value2)
        #expect(lines.contains("bad.yaml:5:14: error: unknown key 'shard' in region 'us-east'; did you mean 'shards'?"))
        #expect(lines.contains("bad.yaml:7:3: error: region 'eu-west' is defined twice; first defined at line 4"))
        let value3 = lines.contains { $0.hasPrefix("bad.yaml:17:") && $0.contains("node id 'eu-west-1' is used twice") }
        #expect(value3)
        let value4 = lines.contains { $0.hasPrefix("bad.yaml:17:") && $0.contains("already used by eu-west-1 cluster at line 16") }
        #expect(value4)
        let value5 = lines.contains { $0.contains("70000") && $0.contains("1...65535") }
        #expect(value5)
    }

    @Test("an unknown key is reported wherever it is", arguments: [
        ("clustr: x", 1, "the topology"),
        ("  eu-west: { shards: 4, storage: \"sqlite:a\", replicas: 2 }", 4, "region 'eu-west'"),
        ("  - { id: eu-west-1, region: eu-west, cluster: \"127.0.0.1:7401\", gateway: \"127.0.0.1:7501\", gatway: \"127.0.0.1:7601\" }", 12, "node 'eu-west-1'"),
    ])
    func unknownKey(line replacement: String, line: Int, context: String) {
        var lines = Fixtures.minimalYAML.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if line == 1 {
            lines.insert(replacement, at: 0)
        } else {
            lines[line - 1] = replacement
        }
        let issues = Fixtures.issues(lines.joined(separator: "\n"))
        #expect(issues.map(Finding.init) == [Finding(line, .unknownKey)])
        #expect(issues.first?.message.contains(context) == true)
    }

    @Test("a YAML syntax error carries its line")
    func syntaxError() {
        let yaml = """
            cluster: test
            version: 1
            regions:
              eu-west: { shards: 4, storage: "sqlite:a"
            catalog_primary: eu-west
            """
        let issues = Fixtures.issues(yaml)
        #expect(issues.count == 1)
        #expect(issues.first?.code == .syntax)
        #expect(issues.first?.line == 5)
        #expect(issues.first?.description.hasPrefix("test.yaml:5:") == true)
    }

    @Test("a bad indentation is a syntax error at its line")
    func badIndentation() {
        let yaml = "cluster: test\nversion: 1\n  regions: {}\n"
        let issues = Fixtures.issues(yaml)
        #expect(issues.map(Finding.init) == [Finding(3, .syntax)])
    }

    @Test("wrong types are reported at the value")
    func wrongTypes() {
        let yaml = """
            cluster: [a, b]
            version: "1"
            regions:
              eu-west: { shards: sixteen, storage: "sqlite:a" }
            catalog_primary:
            identity_authority: eu-west
            seeds: eu-west-1
            nodes:
              - { id: eu-west-1, region: eu-west, cluster: "127.0.0.1:7401", gateway: { host: x } }
              - just-a-name
            """
        let issues = Fixtures.issues(yaml)
        #expect(Set(issues.map(Finding.init)) == [
            Finding(1, .wrongType), Finding(2, .wrongType), Finding(4, .wrongType), Finding(5, .wrongType),
            Finding(7, .wrongType), Finding(9, .wrongType), Finding(10, .wrongType),
        ])
        #expect(issues.count == 7, "\(issues)")
    }

    @Test("missing required fields are reported at their mapping")
    func missingFields() {
        let yaml = """
            cluster: test
            regions:
              eu-west: { storage: "sqlite:a" }
            catalog_primary: eu-west
            identity_authority: eu-west
            seeds: [eu-west-1]
            nodes:
              - { id: eu-west-1, region: eu-west, cluster: "127.0.0.1:7401" }
            """
        let issues = Fixtures.issues(yaml)
        #expect(Set(issues.map(Finding.init)) == [Finding(1, .missingField), Finding(3, .missingField), Finding(8, .missingField)])
        let value6 = issues.contains { $0.line == 1 && $0.message.contains("'version'") }
        #expect(value6)
        let value7 = issues.contains { $0.line == 3 && $0.message.contains("'shards'") }
        #expect(value7)
        let value8 = issues.contains { $0.line == 8 && $0.message.contains("'gateway'") }
        #expect(value8)
    }

    @Test("repeated keys on one line keep correct columns for the problems after them")
    func repeatedKeysOnOneLine() {
        let yaml = Fixtures.minimalYAML.replacingOccurrences(
            of: "eu-west: { shards: 4, storage: \"sqlite:data/eu-west\" }",
            with: "eu-west: { shards: 4, shards: 5, shards: 6, storag: \"x\" }"
        )
        let issues = Fixtures.issues(yaml)
        let columns = issues.filter { $0.line == 4 }.map { "\($0.code):\($0.column)" }
        // Columns as in the file: shards at 25 and 36 repeat the one at 14; `storag` is at 47.
        #expect(Set(columns) == ["duplicate-key:25", "duplicate-key:36", "unknown-key:47", "missing-field:12"])
    }

    @Test("seeds, latency and roles are checked against the topology")
    func references() {
        let yaml = Fixtures.minimalYAML
            .replacingOccurrences(of: "seeds: [eu-west-1]", with: "seeds: []")
            .replacingOccurrences(of: "eu-west/us-east: 40", with: "eu-west/us-east: 40\n  us-east/eu-west: 45\n  eu-west/eu-west: 1")
            .replacingOccurrences(of: "identity_authority: eu-west", with: "identity_authority: mars")
        let issues = Fixtures.issues(yaml)
        #expect(Set(issues.map(Finding.init)) == [
            Finding(8, .badLatency), Finding(9, .badLatency), Finding(11, .unknownRegion), Finding(12, .noSeeds),
        ])
    }

    @Test("numbers out of range are reported, not trapped on")
    func hugeNumbers() {
        let yaml = Fixtures.minimalYAML
            .replacingOccurrences(of: "version: 1", with: "version: 99999999999999999999999")
            .replacingOccurrences(of: "eu-west/us-east: 40", with: "eu-west/us-east: 9223372036854775807")
            .replacingOccurrences(of: "shards: 4, storage: \"sqlite:data/us-east\"", with: "shards: 1000000, storage: \"sqlite:data/us-east\"")
        let issues = Fixtures.issues(yaml)
        #expect(Set(issues.map(Finding.init)) == [Finding(2, .badValue), Finding(5, .badValue), Finding(7, .badLatency)])
    }

    @Test("names and storage URLs are checked")
    func namesAndStorage() {
        let yaml = Fixtures.minimalYAML
            .replacingOccurrences(of: "\"sqlite:data/us-east\"", with: "\"mysql://db/x\"")
            .replacingOccurrences(of: "id: us-east-1", with: "id: \"us east 1\"")
        let issues = Fixtures.issues(yaml)
        #expect(Set(issues.map(Finding.init)) == [Finding(5, .badValue), Finding(13, .badValue)])
    }

    @Test("passwords in storage URLs never appear in messages")
    func passwordRedacted() {
        let yaml = Fixtures.minimalYAML.replacingOccurrences(
            of: "\"sqlite:data/us-east\"", with: "\"mysql://meridian:hunter2@db/x\""
        )
        let error = TopologyError(issues: Fixtures.issues(yaml))
        #expect(!error.description.contains("hunter2"))
        #expect(error.description.contains("mysql://meridian:***@db/x"))
    }

    @Test("malformed input never crashes", arguments: [
        "", "# only a comment", "[]", "- a\n- b", "42", "{", "cluster: *missing", "a: &x [1]\nb: *x",
        "regions: []\nnodes: {}", "\u{0}", "cluster: test\n\tversion: 1", "? [a, b]\n: c",
        "nodes:\n  - ~\n  - []\n  - { id: [x] }", "regions:\n  ~: { shards: 1 }", "latency_ms:\n  a/b/c: 1\n  /: 2",
        String(repeating: "[", count: 200) + String(repeating: "]", count: 200),
    ])
    func malformedInput(yaml: String) {
        let issues = Fixtures.issues(yaml)
        #expect(!issues.isEmpty)
        let value9 = issues.allSatisfy { !$0.message.isEmpty }
        #expect(value9)
    }

    @Test("aliases are refused before composing, so nested anchors cannot blow up")
    func aliasesRefused() {
        var lines = ["l0: &l0 [x, x]"]
        for level in 1..<40 {
            lines.append("l\(level): &l\(level) [*l\(level - 1), *l\(level - 1)]")
        }
        lines.append("k:\n  ? *l39\n  : 1\n  ? *l39\n  : 2")
        let issues = Fixtures.issues(lines.joined(separator: "\n"))
        #expect(issues.count == 80)
        #expect(issues.first.map(Finding.init) == Finding(2, .syntax))
        #expect(issues.first?.column == 10)
    }

    @Test("an asterisk in quoted text or comments is not an alias")
    func asteriskInText() throws {
        let yaml = Fixtures.minimalYAML
            .replacingOccurrences(of: "cluster: test", with: "cluster: test # *not an alias*")
            .replacingOccurrences(of: "\"sqlite:data/us-east\"", with: "'sqlite:data/*x'' *y'")
        let topology = try TopologyLoader.parse(yaml: yaml)
        #expect(topology.region(named: "us-east")?.storage == "sqlite:data/*x' *y")
    }

    @Test("random edits of local.yaml are either accepted or rejected with located issues")
    func randomEdits() throws {
        let original = try String(contentsOfFile: Fixtures.topologyPath("local.yaml"), encoding: .utf8)
        var random = SplitMix64(seed: 0x4d65_7269_6469_616e)
        let alphabet = Array(" :{}[],-\"'\n#&*!|>?%@`ab17.")
        for _ in 0..<300 {
            var text = Array(original)
            for _ in 0..<Int(random.next() % 4 + 1) where !text.isEmpty {
                let index = Int(random.next() % UInt64(text.count))
                switch random.next() % 3 {
                case 0: text.remove(at: index)
                case 1: text.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: index)
                default: text[index] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                }
            }
            let lineCount = text.filter { $0 == "\n" }.count + 1
            do {
                _ = try TopologyLoader.parse(yaml: String(text), file: "fuzz.yaml")
            } catch {
                #expect(!error.issues.isEmpty)
                let value10 = error.issues.allSatisfy { (1...lineCount).contains($0.line) }
                #expect(value10, "\(error)")
            }
        }
    }
}

/// A tiny deterministic generator so the random-edit test is the same on every run.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
