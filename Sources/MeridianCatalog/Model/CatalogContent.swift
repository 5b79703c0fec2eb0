/// Everything one catalog version holds: item definitions, store offers, game settings and feature flags.
///
/// A value built in code or read by ``CatalogLoader``; ``CatalogSnapshot`` wraps a published one with
/// its version and indexes for lookups.
public struct CatalogContent: Sendable, Hashable {
    public var items: [ItemDefinition]
    public var offers: [StoreOffer]
    public var config: GameConfig
    public var flags: [FeatureFlag]

    public init(items: [ItemDefinition] = [], offers: [StoreOffer] = [], config: GameConfig = GameConfig(), flags: [FeatureFlag] = []) {
        self.items = items
        self.offers = offers
        self.config = config
        self.flags = flags
    }

    /// The catalog of a node that never received one (version 0).
    public static let empty = CatalogContent()

    /// The same content with every list sorted by id / name: equal catalogs encode to equal bytes.
    public var canonical: CatalogContent {
        CatalogContent(
            items: items.sorted { $0.id < $1.id },
            offers: offers.sorted { $0.id < $1.id },
            config: config,
            flags: flags.sorted { $0.name < $1.name }
        )
    }
}
