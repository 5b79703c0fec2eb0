import Foundation
import MeridianCatalog
import MeridianWire
import Testing

@Suite("Catalog wire form: exact bytes, hash checked")
struct CatalogWireTests {
    @Test("a snapshot survives the wire unchanged, and equal content gives equal bytes whatever the order")
    func roundTrip() throws {
        let content = try CatalogLoader.load(path: CatalogSamples.exampleFile)
        let snapshot = CatalogSnapshot(version: 12, content: content, publishedAt: Date(timeIntervalSince1970: 1_760_000_000.5), publishedBy: "eu-west-1")
        let received = try CatalogSnapshot(proto: snapshot.proto)
        #expect(received.stamp == snapshot.stamp)
        #expect(received.content == snapshot.content)
        #expect(received.publishedAt == snapshot.publishedAt)
        var shuffled = content
        shuffled.items.reverse()
        shuffled.offers.reverse()
        shuffled.flags.reverse()
        #expect(CatalogSnapshot(version: 12, content: shuffled).contentHash == snapshot.contentHash)
        #expect(CatalogSnapshot.empty.version == 0)
    }

    @Test("damaged content or a malformed hash is refused")
    func damaged() {
        let snapshot = CatalogSnapshot(version: 2, content: CatalogSamples.consistent(generation: 2))
        var proto = snapshot.proto
        proto.content[proto.content.startIndex + 5] ^= 0x01
        #expect(throws: CatalogWireError.self) { try CatalogSnapshot(proto: proto) }
        proto = snapshot.proto
        proto.contentSha256 = Data([1, 2, 3])
        #expect(throws: CatalogWireError.self) { try CatalogSnapshot(proto: proto) }
        proto = snapshot.proto
        proto.content = Data([0xFF, 0xFF, 0xFF])
        proto.contentSha256 = Data(CatalogHash(of: [0xFF, 0xFF, 0xFF]).bytes)
        #expect(throws: CatalogWireError.self) { try CatalogSnapshot(proto: proto) }
    }
}

/// Times at the ends of the wire form's range: what a damaged file or a faulty peer may send.
@Suite("Catalog wire form: extreme times")
struct CatalogWireExtremeTimeTests {
    static let content = CatalogContent(
        items: [ItemDefinition(id: "gold", name: "Gold", category: .currency, stackable: true, maxStack: nil, tradeable: false)],
        offers: [], config: GameConfig([:]), flags: []
    )

    @Test("a snapshot published at Int64.max or Int64.min milliseconds is re-encoded, not a trap", arguments: [Int64.max, .min, .max - 1, .min + 1])
    func extremePublishedAt(milliseconds: Int64) throws {
        var proto = CatalogSnapshot(version: 3, content: Self.content).proto
        proto.publishedAtMs = milliseconds
        let snapshot = try CatalogSnapshot(proto: proto)
        // Serving or persisting what was accepted encodes its time again: this trapped at the ends.
        let again = snapshot.proto
        #expect(again.publishedAtMs == (milliseconds > 0 ? Int64.max : Int64.min))
        #expect(try CatalogSnapshot(proto: again).stamp == snapshot.stamp)
    }

    @Test("an offer available from or until the ends of the range is encoded, not a trap")
    func extremeOfferWindow() throws {
        // What `CatalogContent(encoded:)` makes of Int64.min and Int64.max milliseconds.
        let window = AvailabilityWindow(
            from: Date(timeIntervalSince1970: Double(Int64.min) / 1000), until: Date(timeIntervalSince1970: Double(Int64.max) / 1000)
        )
        var content = Self.content
        content.offers = [StoreOffer(id: "offer.gold", item: "gold", price: .init(currency: "gold", amount: 1), availability: window)]
        let encoded = content.encoded()
        let decoded = try CatalogContent(encoded: encoded)
        #expect(decoded.encoded() == encoded)
        #expect(decoded.proto.offers.first?.availableFromMs == .min)
        #expect(decoded.proto.offers.first?.availableUntilMs == .max)
    }
}
