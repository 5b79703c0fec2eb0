import Foundation
import MeridianTopology

extension CatalogConfiguration {
    /// The configuration of a node of `region` in `topology`: the primary region is the topology's
    /// `catalog_primary`; the data directory is `$MERIDIAN_DATA_DIR` when set, else the directory of the
    /// region's `sqlite:DIR` storage (next to the node's `DIR/<node>.sqlite`), else `data`.
    public init(topology: Topology, region: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(primaryRegion: topology.catalogPrimary, dataDirectory: topology.dataDirectory(region: region, environment: environment))
    }
}
