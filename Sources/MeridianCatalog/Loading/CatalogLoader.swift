import Foundation
import MeridianYAML

/// Reads catalog files (`meridian catalog publish FILE`). Every problem in a file is reported at once,
/// each at its line and column; content is returned only when there is none.
///
/// The format, with every key (see `Topology/catalogs/example.yaml`):
///
/// ```yaml
/// items:                      # required; ids are unique, letters/digits/-/_/.
///   - { id: gold, name: Gold, category: currency }       # currency|consumable|equipment|cosmetic|material
///   - { id: sword.iron, name: Iron Sword, category: equipment, tradeable: true }
///   - { id: potion.small, name: Small Potion, category: consumable, stackable: true, max_stack: 20 }
/// offers:                     # optional
///   - id: offer.sword-iron
///     item: sword.iron
///     count: 1                # default 1
///     price: { currency: gold, amount: 250 }
///     available: { from: 2025-06-01T00:00:00Z, until: 2025-07-01 }   # optional, either end optional
/// config:                     # optional; whole numbers, numbers, true/false or text
///   max_party_size: 4
/// flags:                      # optional
///   new_matchmaker: { enabled: true, rollout: 12.5, description: "…" }   # rollout: % of players, default 100
/// ```
public enum CatalogLoader {
    /// Catalog files are kilobytes to a few megabytes; refusing huge inputs keeps a bad path from eating memory.
    public static let maximumFileSize = 16 * 1024 * 1024

    /// How messages of the shared YAML reader name these files.
    static let document = "catalog file"

    /// Loads and validates the catalog file at `path`.
    public static func load(path: String) throws(CatalogError) -> CatalogContent {
        let text: String
        do {
            text = try YAMLFile.text(at: path, document: document, maximumSize: maximumFileSize)
        } catch {
            throw unreadable(path, error.problem)
        }
        return try parse(yaml: text, file: path)
    }

    /// Parses and validates catalog YAML; `file` names the source in issues.
    public static func parse(yaml: String, file: String = "<catalog>") throws(CatalogError) -> CatalogContent {
        guard yaml.utf8.count <= maximumFileSize else {
            throw unreadable(file, "is larger than \(maximumFileSize) bytes")
        }
        var issues = CatalogIssues(file: file)
        guard let (root, duplicates) = YAMLComposer.compose(yaml, document: document, issues: &issues) else {
            throw CatalogError(issues: issues.issues)
        }
        let draft = CatalogDecoder.decode(root, duplicates: duplicates, issues: &issues)
        CatalogValidator.check(draft, into: &issues)
        guard issues.isEmpty, let content = draft.content() else {
            throw CatalogError(issues: issues.issues)
        }
        return content
    }

    private static func unreadable(_ file: String, _ problem: String) -> CatalogError {
        CatalogError(issues: [CatalogIssue(file: file, line: 0, column: 0, code: .unreadable, message: "catalog file \(problem)")])
    }
}
