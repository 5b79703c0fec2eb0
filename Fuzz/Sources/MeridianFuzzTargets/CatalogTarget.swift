import Foundation
import MeridianCatalog
import MeridianWire
import SwiftProtobuf

/// Catalogs, every way they enter a node: catalog files through ``CatalogLoader/parse(yaml:file:)``
/// (`meridian catalog publish`), catalog content bytes through ``CatalogContent/init(encoded:)``,
/// and whole snapshots as a peer sends them or the node's catalog file holds them, through
/// ``CatalogSnapshot/init(proto:)``.
///
/// Input: one byte of options, then the file or the bytes. Options, bits 0–1: 0 YAML, 1 content
/// bytes, 2 a `Snapshot` message, 3 a `Snapshot` message whose content hash the target
/// corrects first (any peer can compute SHA-256: the hash guards against damage, not forgery),
/// so that the content behind the hash check is reached.
///
/// Invariants: a rejected file says why; content, once accepted, survives its canonical
/// encoding (what replication sends and hashes) unchanged; an accepted snapshot re-encodes
/// (a node serves and persists what it accepted) to a snapshot with the same stamp.
enum CatalogTarget {
    static func run(_ input: FuzzInput) {
        guard let (options, rest) = input.header else { return }
        let content: CatalogContent
        switch options & 3 {
        case 0:
            do {
                content = try CatalogLoader.parse(yaml: String(decoding: rest, as: UTF8.self), file: "fuzz.yaml")
            } catch {
                invariant(!error.issues.isEmpty, "a catalog was refused without an issue")
                _ = "\(error)"  // the message an operator reads
                return
            }
        case 1:
            do {
                content = try CatalogContent(encoded: Array(rest))
            } catch {
                return
            }
        default:
            guard var message = try? Meridian_Catalog_V1_Snapshot(serializedBytes: Array(rest)) else { return }
            if options & 3 == 3 {
                message.contentSha256 = Data(CatalogHash(of: [UInt8](message.content)).bytes)
            }
            guard let snapshot = try? CatalogSnapshot(proto: message) else { return }
            do {
                let again = try CatalogSnapshot(proto: snapshot.proto)
                invariant(again.stamp == snapshot.stamp, "a snapshot's stamp changed through its wire form")
            } catch {
                fatalError("an accepted snapshot's wire form is refused: \(error)")
            }
            content = snapshot.content
        }
        let encoded = content.encoded()
        do {
            let decoded = try CatalogContent(encoded: encoded)
            invariant(decoded.encoded() == encoded, "catalog content changed through its canonical encoding")
            invariant(decoded == content.canonical, "catalog content decoded from its canonical encoding is not the canonical content")
        } catch {
            fatalError("the canonical encoding of accepted content does not decode: \(error)")
        }
    }
}
