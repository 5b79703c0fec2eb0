import Foundation
import MeridianYAML

/// Reads topology files. Every problem in a file is reported at once, each at its line and column;
/// a topology is returned only when there is none.
public enum TopologyLoader {
    /// Topology files are a few kilobytes; refusing huge inputs keeps a bad path from eating memory.
    public static let maximumFileSize = 8 * 1024 * 1024

    /// Loads and validates the topology file at `path`.
    public static func load(path: String) throws(TopologyError) -> Topology {
        let text: String
        do {
            text = try YAMLFile.text(at: path, document: document, maximumSize: maximumFileSize)
        } catch {
            throw unreadable(path, error.problem)
        }
        return try parse(yaml: text, file: path)
    }

    /// Parses and validates topology YAML; `file` names the source in issues.
    public static func parse(yaml: String, file: String = "<topology>") throws(TopologyError) -> Topology {
        var issues = TopologyIssues(file: file)
        guard yaml.utf8.count <= maximumFileSize else {
            throw unreadable(file, "is larger than \(maximumFileSize) bytes")
        }
        guard let (root, duplicates) = YAMLComposer.compose(yaml, document: document, issues: &issues) else {
            throw TopologyError(issues: issues.issues)
        }
        let draft = TopologyDecoder.decode(root, duplicates: duplicates, issues: &issues)
        TopologyValidator.check(draft, into: &issues)
        guard issues.isEmpty, let topology = draft.topology() else {
            throw TopologyError(issues: issues.issues)
        }
        return topology
    }

    /// How messages of the shared YAML reader name these files.
    static let document = "topology file"

    private static func unreadable(_ file: String, _ problem: String) -> TopologyError {
        TopologyError(issues: [TopologyIssue(file: file, line: 0, column: 0, code: .unreadable, message: "topology file \(problem)")])
    }
}
