import Foundation

extension Topology {
    /// Where a node of `region` keeps its files (the catalog it serves, the topology version it
    /// runs): `$MERIDIAN_DATA_DIR` when set, else the directory of the region's `sqlite:DIR`
    /// storage (next to the node's `DIR/<node>.sqlite`), else `data`.
    public func dataDirectory(region: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let configured = environment["MERIDIAN_DATA_DIR"], !configured.isEmpty { return configured }
        let storage = self.region(named: region)?.storage ?? ""
        if storage.hasPrefix("sqlite:"), storage.count > "sqlite:".count { return String(storage.dropFirst("sqlite:".count)) }
        return "data"
    }
}

/// The topology version a node last adopted through `meridian topology apply`, kept in
/// `<data directory>/<node>.topology.yaml` so that a restarted node runs it rather than the
/// older file it is started with.
public struct AppliedTopologyFile: Sendable {
    public let path: String

    public init(directory: String, node: String) {
        path = URL(fileURLWithPath: directory).appendingPathComponent("\(node).topology.yaml").path
    }

    /// The kept version, when there is one for cluster `cluster`; nil when there is none.
    /// - Throws: ``TopologyError`` when the file is there but unusable (hand-edited, cut short).
    public func load(cluster: String) throws(TopologyError) -> LiveTopology.Version? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let topology = try TopologyLoader.load(path: path)
        guard topology.cluster == cluster, let yaml = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return LiveTopology.Version(topology: topology, yaml: yaml)
    }

    /// Writes `version` whole or not at all (a temporary file renamed over the old one).
    public func save(_ version: LiveTopology.Version) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(version.yaml.utf8).write(to: url, options: .atomic)
    }

    /// Of the file a node is started with and the version it kept: the newer.
    public static func newer(_ started: LiveTopology.Version, _ kept: LiveTopology.Version?) -> LiveTopology.Version {
        guard let kept, kept.topology.version > started.topology.version else { return started }
        return kept
    }
}
