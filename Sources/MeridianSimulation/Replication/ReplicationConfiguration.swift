/// How snapshots are sent to clients.
public struct ReplicationConfiguration: Sendable, Hashable {
    /// Area of interest: grid cells within this many cells (Chebyshev distance) of the client's player.
    public var interestRadiusCells: Int = 2
    /// A client that acknowledged nothing for this many ticks (or whose acknowledged baseline is
    /// older than this) gets a full snapshot instead of a delta.
    public var fullSnapshotAfterTicks: Int = 30

    public init(interestRadiusCells: Int = 2, fullSnapshotAfterTicks: Int = 30) {
        precondition(interestRadiusCells >= 0 && fullSnapshotAfterTicks >= 1)
        self.interestRadiusCells = interestRadiusCells
        self.fullSnapshotAfterTicks = fullSnapshotAfterTicks
    }
}
