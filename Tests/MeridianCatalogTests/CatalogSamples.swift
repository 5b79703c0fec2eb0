import Foundation
import MeridianCatalog

/// Catalogs built in code for tests.
enum CatalogSamples {
    /// A catalog whose parts check each other: every offer sells an item of the catalog, and config
    /// `generation` and `checksum` (= generation × items + offers) let a reader detect a mix of versions.
    static func consistent(generation: Int) -> CatalogContent {
        let itemCount = 5 + generation % 7
        var items = [ItemDefinition(id: "gold", name: "Gold", category: .currency)]
        for index in 0..<itemCount {
            items.append(ItemDefinition(id: "item.\(generation).\(index)", name: "Item \(index) of \(generation)", category: .equipment))
        }
        let offers = (0..<itemCount).map { index in
            StoreOffer(id: "offer.\(generation).\(index)", item: "item.\(generation).\(index)", price: .init(currency: "gold", amount: UInt64(index * 10)))
        }
        let config = GameConfig([
            "generation": .int(Int64(generation)),
            "checksum": .int(Int64(generation * items.count + offers.count)),
        ])
        return CatalogContent(items: items, offers: offers, config: config, flags: [FeatureFlag(name: "f\(generation % 3)", enabled: true)])
    }

    /// Checks the invariants of ``consistent(generation:)``; returns a description of the first violation.
    static func violation(in snapshot: CatalogSnapshot) -> String? {
        let content = snapshot.content
        guard let generation = content.config.int("generation") else {
            return snapshot.version == 0 ? nil : "v\(snapshot.version) has no generation"
        }
        guard content.config.int("checksum") == generation * Int64(content.items.count) + Int64(content.offers.count) else {
            return "v\(snapshot.version): checksum does not match items and offers"
        }
        for offer in content.offers {
            guard snapshot.item(offer.item) != nil, offer.item.hasPrefix("item.\(generation).") else {
                return "v\(snapshot.version): offer \(offer.id) sells \(offer.item), not an item of generation \(generation)"
            }
        }
        return nil
    }

    static var exampleFile: String {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Topology/catalogs/example.yaml").path
    }
}
