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
