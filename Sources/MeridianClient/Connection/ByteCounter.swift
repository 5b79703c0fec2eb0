import Synchronization

/// Bytes received over a client's connections: every frame with its 4-byte length prefix.
/// Shared by the connections of one ``GameClient`` (a reconnect keeps counting).
package final class ByteCounter: Sendable {
    private let total = Atomic<UInt64>(0)

    package init() {}

    package func add(_ bytes: Int) {
        total.add(UInt64(bytes), ordering: .relaxed)
    }

    package var value: UInt64 { total.load(ordering: .relaxed) }
}
