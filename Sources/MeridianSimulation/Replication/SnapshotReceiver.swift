/// Client side of replication: applies each packet to the baseline it names and keeps the
/// snapshots the server may still use as baselines. Returns the tick to acknowledge.
public struct SnapshotReceiver: Sendable {
    /// Decoded snapshots not yet superseded as possible baselines, oldest first.
    private var held: [ReplicatedSnapshot] = []
    /// The newest snapshot applied.
    public private(set) var latest: ReplicatedSnapshot?

    /// Snapshots kept at most; more than any sane ``ReplicationConfiguration/fullSnapshotAfterTicks``.
    static let maximumHeld = 256

    public init() {}

    /// Applies a packet. Old or out-of-order packets are ignored (returns nil); otherwise returns
    /// the tick the client should acknowledge.
    public mutating func receive(_ bytes: [UInt8]) throws(SnapshotDecodingError) -> UInt32? {
        let header = try SnapshotCodec.header(of: bytes)
        if let latest, header.tick <= latest.tick { return nil }
        var baseline: ReplicatedSnapshot?
        if let baselineTick = header.baseline {
            guard let found = self.held.first(where: { $0.tick == baselineTick }) else {
                throw SnapshotDecodingError(reason: "baseline \(baselineTick) is not held")
            }
            baseline = found
            // The server's baseline only moves forward: anything older can go.
            self.held.removeAll { $0.tick < baselineTick }
        }
        let snapshot = try SnapshotCodec.decode(bytes, baseline: baseline)
        // An ack sent before a full snapshot arrived may still become the server's baseline,
        // so a full snapshot does not clear what is held; a cap bounds the memory instead.
        if self.held.count >= Self.maximumHeld { self.held.removeFirst(self.held.count - Self.maximumHeld + 1) }
        self.held.append(snapshot)
        self.latest = snapshot
        return snapshot.tick
    }
}
