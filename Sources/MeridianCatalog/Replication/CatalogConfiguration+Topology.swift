import Foundation
import MeridianTopology

extension CatalogConfiguration {
    /// The configuration of a node of `region` in `topology`: the primary region is the topology's
    /// `catalog_primary`; the data directory is `$MERIDIAN_DATA_DIR` when set, else the directory of the
    /// region's `sqlite:DIR` storage (next to the node's `DIR/<node>.sqlite`), else `data`.
    public init(topology: Topology, region: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let storage = topology.region(named: region)?.storage ?? ""
        let directory: String
        if let configured = environment["MERIDIAN_DATA_DIR"], !configured.isEmpty {
            directory = configured
        } else if storage.hasPrefix("sqlite:"), storage.count > "sqlite:".count {
            directory = String(storage.dropFirst("sqlite:".count))
        } else {
            directory = "data"
        }
        self.init(primaryRegion: topology.catalogPrimary, dataDirectory: directory)
    }
}
