/// How a node runs its catalog replica. Defaults suit a production node; tests shorten the intervals.
public struct CatalogConfiguration: Sendable {
    /// The region whose leader assigns versions: the topology's `catalog_primary`.
    public var primaryRegion: String
    /// Directory of the file (`<node>.catalog`) holding the last version this node served;
    /// `nil` keeps the catalog in memory only (tests, tools).
    public var dataDirectory: String?
    /// How often a replica compares its version with the leader's (the leader: with everyone's) and
    /// fetches or pushes what is missing. Default 2 s.
    public var syncInterval: Duration = .seconds(2)
    /// Deadline of the status queries and fetches of anti-entropy. Default 3 s.
    public var callTimeout: Duration = .seconds(3)
    /// How long a publish waits for each node to acknowledge the new version; a node that does not is
    /// reported as missed and catches up by anti-entropy. Default 5 s.
    public var pushTimeout: Duration = .seconds(5)

    public init(primaryRegion: String, dataDirectory: String? = nil) {
        self.primaryRegion = primaryRegion
        self.dataDirectory = dataDirectory
    }
}
