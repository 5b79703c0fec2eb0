import Foundation
import MeridianCluster
import MeridianWire

extension CatalogSnapshot {
    /// The snapshot in its wire form.
    package var proto: Meridian_Catalog_V1_Snapshot {
        var message = Meridian_Catalog_V1_Snapshot()
        message.version = version
        message.content = Data(encodedContent)
        message.contentSha256 = Data(contentHash.bytes)
        message.publishedAtMs = CatalogContent.milliseconds(publishedAt)
        message.publishedBy = publishedBy
        return message
    }

    /// Reads a snapshot from another node or a file, checking that its content matches its hash.
    package convenience init(proto: Meridian_Catalog_V1_Snapshot) throws(CatalogWireError) {
        let bytes = [UInt8](proto.content)
        guard let claimed = CatalogHash(bytes: proto.contentSha256) else {
            throw CatalogWireError("catalog v\(proto.version) has a content hash of \(proto.contentSha256.count) bytes; expected 32")
        }
        let actual = CatalogHash(of: bytes)
        guard actual == claimed else {
            throw CatalogWireError("catalog v\(proto.version): content hash \(actual.short) does not match the claimed \(claimed.short); the bytes were damaged")
        }
        self.init(
            version: proto.version,
            content: try CatalogContent(encoded: bytes),
            encodedContent: bytes,
            contentHash: actual,
            publishedAt: CatalogContent.date(proto.publishedAtMs),
            publishedBy: proto.publishedBy
        )
    }
}

extension CatalogStamp {
    /// A stamp from a status reply; `nil` when the hash field is malformed.
    package init?(version: UInt64, hashBytes: Data) {
        guard let hash = CatalogHash(bytes: hashBytes) else { return nil }
        self.init(version: version, hash: hash)
    }
}

// Remote-call arguments and results travel as their protobuf bytes.
extension Meridian_Catalog_V1_Snapshot: WireCodable {}
extension Meridian_Catalog_V1_PublishRequest: WireCodable {}
extension Meridian_Catalog_V1_PublishReply: WireCodable {}
extension Meridian_Catalog_V1_ReplicaStatus: WireCodable {}
extension Meridian_Catalog_V1_FetchReply: WireCodable {}
