import Crypto

/// SHA-256 of a catalog version's encoded content: equal on every node that serves the same catalog.
public struct CatalogHash: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// `nil` unless `bytes` is 32 bytes long.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == SHA256.byteCount else { return nil }
        self.bytes = Array(bytes)
    }

    /// The hash of `content` bytes.
    public init(of content: some Collection<UInt8>) {
        self.bytes = Array(SHA256.hash(data: Array(content)))
    }

    /// 64 lowercase hex digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The first 12 hex digits, enough to tell versions apart in a table.
    public var short: String { String(hex.prefix(12)) }

    public var description: String { short }

    public static func < (lhs: CatalogHash, rhs: CatalogHash) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

/// Which catalog a node serves: the version, and the content hash that tells apart two different
/// catalogs given the same version (only possible when the primary region was split and two nodes
/// each believed they were the leader).
///
/// Stamps are totally ordered by version, then hash, so every node converges on the same catalog even
/// then: the larger stamp wins everywhere.
public struct CatalogStamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var version: UInt64
    public var hash: CatalogHash

    public init(version: UInt64, hash: CatalogHash) {
        self.version = version
        self.hash = hash
    }

    public static func < (lhs: CatalogStamp, rhs: CatalogStamp) -> Bool {
        (lhs.version, lhs.hash) < (rhs.version, rhs.hash)
    }

    public var description: String { "v\(version) (\(hash.short))" }
}
