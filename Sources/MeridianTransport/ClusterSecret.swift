import Crypto
import Foundation

/// The shared secret every node of a cluster holds. A process that cannot prove it knows the
/// secret (HMAC-SHA256 over the handshake transcript) is refused. Never printed.
public struct ClusterSecret: Sendable, CustomStringConvertible {
    package let key: SymmetricKey

    /// A secret from raw bytes; at least 16 bytes.
    public init?(bytes: some Sequence<UInt8>) {
        let data = Data(bytes)
        guard data.count >= 16 else { return nil }
        self.key = SymmetricKey(data: data)
    }

    /// A secret from text (for example the `MERIDIAN_CLUSTER_SECRET` environment variable);
    /// at least 16 characters.
    public init?(text: String) {
        self.init(bytes: Array(text.utf8))
    }

    /// A fresh random secret, for a local cluster whose processes this process starts.
    public static func random() -> ClusterSecret {
        var generator = SystemRandomNumberGenerator()
        return ClusterSecret(bytes: (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })!
    }

    /// The secret as hex, to hand to child processes through their environment.
    public var hexEncoded: String {
        key.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
    }

    public init?(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes: bytes)
    }

    public var description: String { "ClusterSecret(redacted)" }
}
