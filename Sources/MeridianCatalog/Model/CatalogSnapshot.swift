import Foundation

/// One published catalog version, immutable: what ``LocalCatalog/current`` returns.
///
/// A reader holds a snapshot for as long as it needs a consistent view (a whole purchase, a whole
/// match setup); a publish that lands meanwhile never changes it.
public final class CatalogSnapshot: Sendable {
    /// Monotonic version assigned by the catalog leader; 0 = no catalog received yet.
    public let version: UInt64
    public let content: CatalogContent
    /// SHA-256 of ``encodedContent``.
    public let contentHash: CatalogHash
    /// When the leader assigned the version.
    public let publishedAt: Date
    /// The node that assigned the version (empty for version 0).
    public let publishedBy: String

    /// The content as the leader encoded it (a serialized `CatalogContent` protobuf): what replicas
    /// push, fetch, hash and persist, byte for byte.
    package let encodedContent: [UInt8]

    private let itemsByID: [String: ItemDefinition]
    private let offersByID: [String: StoreOffer]
    private let flagsByName: [String: FeatureFlag]

    /// Which catalog this is, for comparing with other nodes.
    public var stamp: CatalogStamp { CatalogStamp(version: version, hash: contentHash) }

    /// A snapshot of `content` at `version`; the content is stored (and hashed) in canonical order.
    public convenience init(version: UInt64, content: CatalogContent, publishedAt: Date = Date(), publishedBy: String = "") {
        let canonical = content.canonical
        let encoded = canonical.encoded()
        self.init(
            version: version, content: canonical, encodedContent: encoded, contentHash: CatalogHash(of: encoded),
            publishedAt: publishedAt, publishedBy: publishedBy
        )
    }

    /// Used by the wire decoding, which has already checked `contentHash` against `encodedContent`.
    package init(
        version: UInt64, content: CatalogContent, encodedContent: [UInt8], contentHash: CatalogHash,
        publishedAt: Date, publishedBy: String
    ) {
        self.version = version
        self.content = content
        self.encodedContent = encodedContent
        self.contentHash = contentHash
        self.publishedAt = publishedAt
        self.publishedBy = publishedBy
        // Duplicate ids only exist in content that skipped validation; the first definition wins.
        self.itemsByID = Dictionary(content.items.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.offersByID = Dictionary(content.offers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.flagsByName = Dictionary(content.flags.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// What a node serves before it has received any catalog.
    public static let empty = CatalogSnapshot(version: 0, content: .empty, publishedAt: Date(timeIntervalSince1970: 0))

    public func item(_ id: String) -> ItemDefinition? { itemsByID[id] }

    public func offer(_ id: String) -> StoreOffer? { offersByID[id] }

    public func flag(_ name: String) -> FeatureFlag? { flagsByName[name] }

    public var config: GameConfig { content.config }

    /// Whether flag `name` is on for `player`; `false` for a flag this version does not define.
    public func isEnabled(_ name: String, forPlayer player: UUID) -> Bool {
        flagsByName[name]?.isEnabled(forPlayer: player) ?? false
    }
}
