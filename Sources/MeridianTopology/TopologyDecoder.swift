import MeridianYAML
import Yams

/// Reads the shape of a topology file (keys, types, addresses) into a ``TopologyDraft``.
/// Cross-references (regions, seeds, clashes) are ``TopologyValidator``'s job.
struct TopologyDecoder {
    /// Top-level keys; tools outside the code read these names, so they never change spelling.
    static let requiredKeys = ["cluster", "version", "regions", "catalog_primary", "identity_authority", "seeds", "nodes"]
    static let optionalKeys = ["latency_ms", "dev_login"]
    static let regionKeys = ["shards", "storage"]
    static let nodeKeys = ["id", "region", "cluster", "gateway"]
    static let optionalNodeKeys = ["metrics", "players"]

    var reader: YAMLReader<TopologyIssue>

    static func decode(_ root: YAMLNode, duplicates: DuplicateKeys, issues: inout TopologyIssues) -> TopologyDraft {
        var decoder = TopologyDecoder(reader: YAMLReader(issues: issues, duplicates: duplicates))
        let draft = decoder.decode(root)
        issues = decoder.reader.issues
        return draft
    }

    mutating func decode(_ root: YAMLNode) -> TopologyDraft {
        var draft = TopologyDraft()
        draft.location = reader.locate(root)
        guard let fields = reader.fields(
            of: root, what: "the topology", required: Self.requiredKeys, optional: Self.optionalKeys
        ) else { return draft }
        draft.cluster = reader.string(fields["cluster"], what: "cluster")
        draft.version = reader.integer(fields["version"], what: "version")
        draft.regions = fields["regions"].flatMap { regions($0) }
        draft.latency = fields["latency_ms"].map { latency($0) } ?? []
        draft.catalogPrimary = reader.string(fields["catalog_primary"], what: "catalog_primary")
        draft.identityAuthority = reader.string(fields["identity_authority"], what: "identity_authority")
        draft.devLogin = reader.boolean(fields["dev_login"], what: "dev_login")
        draft.seeds = reader.stringList(fields["seeds"], what: "seeds")
        draft.nodes = fields["nodes"].flatMap { nodes($0) }
        return draft
    }

    private mutating func regions(_ entry: YAMLReader<TopologyIssue>.Entry) -> Located<[TopologyDraft.RegionDraft]>? {
        guard case .mapping(let mapping) = entry.value else {
            reader.issues.add(.wrongType, at: reader.location(of: entry),
                              "regions must be a mapping of region name to { shards, storage }, found \(YAMLNodes.describe(entry.value))")
            return nil
        }
        let entries = reader.entries(of: mapping) { name, first in
            "region '\(name)' is defined twice; first defined\(first.lineSuffix)"
        }
        let regions = entries.map { region in
            let what = "region '\(region.key.value)'"
            let fields = reader.fields(of: region.value, what: what, required: Self.regionKeys)
            return TopologyDraft.RegionDraft(
                name: region.key,
                shards: reader.integer(fields?["shards"], what: "shards of \(what)"),
                storage: reader.string(fields?["storage"], what: "storage of \(what)")
            )
        }
        return Located(regions, at: reader.location(of: entry))
    }

    private mutating func latency(_ entry: YAMLReader<TopologyIssue>.Entry) -> [TopologyDraft.LatencyDraft] {
        if YAMLNodes.tagName(entry.value) == .null { return [] }
        guard case .mapping(let mapping) = entry.value else {
            reader.issues.add(.wrongType, at: reader.location(of: entry),
                              "latency_ms must be a mapping such as 'eu-west/us-east: 40', found \(YAMLNodes.describe(entry.value))")
            return []
        }
        let entries = reader.entries(of: mapping) { key, first in
            "latency '\(key)' is given twice; first given\(first.lineSuffix)"
        }
        return entries.compactMap { item in
            let key = item.key
            let parts = key.value.split(separator: "/", omittingEmptySubsequences: false)
            let milliseconds = reader.integer(item, what: "latency '\(key.value)'")
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                reader.issues.add(.badLatency, at: key.location,
                                  "latency key '\(key.value)' must name two regions as 'a/b', e.g. 'eu-west/us-east'")
                return nil
            }
            return TopologyDraft.LatencyDraft(
                key: key, pair: RegionPair(String(parts[0]), String(parts[1])), milliseconds: milliseconds
            )
        }
    }

    private mutating func nodes(_ entry: YAMLReader<TopologyIssue>.Entry) -> Located<[TopologyDraft.NodeDraft]>? {
        guard case .sequence(let sequence) = entry.value else {
            reader.issues.add(.wrongType, at: reader.location(of: entry),
                              "nodes must be a list of { id, region, cluster, gateway }, found \(YAMLNodes.describe(entry.value))")
            return nil
        }
        let nodes = sequence.enumerated().map { index, item in
            let location = reader.locate(item)
            var node = TopologyDraft.NodeDraft(location: location)
            guard case .mapping(let mapping) = item else {
                _ = reader.fields(of: item, what: "node #\(index + 1)", required: [])
                return node
            }
            // Name the node in messages by its id when the id is readable.
            let idText = mapping["id"]?.scalar?.string
            let what = idText.map { "node '\($0)'" } ?? "node #\(index + 1)"
            let fields = reader.fields(of: item, what: what, required: Self.nodeKeys, optional: Self.optionalNodeKeys)
            node.id = reader.string(fields?["id"], what: "id of \(what)")
            node.region = reader.string(fields?["region"], what: "region of \(what)")
            node.cluster = reader.hostPort(fields?["cluster"], what: "cluster address of \(what)")
            node.gateway = reader.hostPort(fields?["gateway"], what: "gateway address of \(what)")
            node.metrics = reader.hostPort(fields?["metrics"], what: "metrics address of \(what)")
            node.players = reader.boolean(fields?["players"], what: "players of \(what)")
            return node
        }
        return Located(nodes, at: reader.location(of: entry))
    }
}
