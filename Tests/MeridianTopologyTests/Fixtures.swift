import Foundation
import MeridianTopology
import Testing

/// Paths into the repository, found from this file so tests run from any working directory.
enum Fixtures {
    // Symlinks resolved: a scratch package may reach these tests through a link.
    static let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent()  // MeridianTopologyTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    static func topologyPath(_ relative: String) -> String {
        repositoryRoot.appendingPathComponent("Topology").appendingPathComponent(relative).path
    }

    /// A small valid topology as YAML, for tests that change one thing about it.
    static let minimalYAML = """
        cluster: test
        version: 1
        regions:
          eu-west: { shards: 4, storage: "sqlite:data/eu-west" }
          us-east: { shards: 4, storage: "sqlite:data/us-east" }
        latency_ms:
          eu-west/us-east: 40
        catalog_primary: eu-west
        identity_authority: eu-west
        seeds: [eu-west-1]
        nodes:
          - { id: eu-west-1, region: eu-west, cluster: "127.0.0.1:7401", gateway: "127.0.0.1:7501" }
          - { id: us-east-1, region: us-east, cluster: "127.0.0.1:7411", gateway: "127.0.0.1:7511" }
        """

    /// Parses YAML that is expected to be rejected and returns its issues (recording a failure if accepted).
    static func issues(_ yaml: String, file: String = "test.yaml", sourceLocation: SourceLocation = #_sourceLocation) -> [TopologyIssue] {
        do {
            let topology = try TopologyLoader.parse(yaml: yaml, file: file)
            Issue.record("expected the topology to be rejected, got \(topology)", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.issues
        }
    }
}

/// Line and code of an issue, the parts tests pin down (wording may change).
struct Finding: Hashable, CustomStringConvertible {
    var line: Int
    var code: TopologyIssue.Code
    init(_ line: Int, _ code: TopologyIssue.Code) {
        self.line = line
        self.code = code
    }
    init(_ issue: TopologyIssue) {
        self.init(issue.line, issue.code)
    }
    var description: String { "\(line):\(code)" }
}
