import Logging

/// Opens the store named by a topology's `storage:` URL for `node`: for `sqlite:DIR`, the node's own
/// file `DIR/<node>.sqlite`; for `postgres://…`, the region's database (shared by the region's nodes).
/// The schema is migrated before the store is returned.
public func makeRegionStore(url: StorageURL, node: String, logger: Logger) async throws(StorageError) -> any RegionStore {
    var logger = logger
    logger[metadataKey: "meridian.storage"] = "\(url)"
    switch url {
    case .sqlite(let directory):
        return try await SQLiteRegionStore.open(directory: directory, node: node, logger: logger)
    case .postgres(let settings):
        return try await PostgresRegionStore.connect(settings, logger: logger)
    }
}

/// Parses `storage` (a topology's `storage:` string) and opens it; see ``makeRegionStore(url:node:logger:)``.
public func makeRegionStore(storage: String, node: String, logger: Logger) async throws(StorageError) -> any RegionStore {
    try await makeRegionStore(url: StorageURL(parsing: storage), node: node, logger: logger)
}
