import Foundation

/// Where a cross-region transfer of a player's home stands. The identity authority's saga moves
/// through these in order; the flip of the directory (`flipped`) is the commit point.
public enum TransferStep: String, Sendable, Hashable, CaseIterable {
    /// Recorded; nothing changed anywhere yet.
    case begun
    /// The source store refuses every write for the player.
    case frozen
    /// The destination holds an `incoming` copy at the new epoch.
    case copied
    /// The directory names the destination at the new epoch: from here the transfer only goes forward.
    case flipped
    /// The destination's copy takes writes.
    case activated
    /// The source's copy is tombstoned: the transfer is over.
    case done
    /// A failure before the flip: the destination's copy is being discarded, the source unfrozen.
    case rollingBack = "rolling_back"
    /// Rolled back: the player is where they were, writable again.
    case rolledBack = "rolled_back"

    /// Nothing more to do.
    public var isFinal: Bool { self == .done || self == .rolledBack }
    /// The directory names the destination: the transfer can only go forward.
    public var isCommitted: Bool { self == .flipped || self == .activated || self == .done }
}

/// One transfer as the identity authority persists it after every step, so a coordinator that
/// restarts resumes it where it stood.
public struct TransferRecord: Sendable, Hashable {
    public var id: UUID
    public var player: PlayerID
    public var from: String
    public var to: String
    /// The player's epoch when the transfer began; the player has `fromEpoch + 1` after the move.
    public var fromEpoch: Epoch
    public var step: TransferStep
    /// Why it rolled back, if it did (at most ``maximumFailureBytes``).
    public var failure: String?
    public var startedAt: Date
    public var updatedAt: Date

    /// The epoch the player has in the destination.
    public var toEpoch: Epoch { Epoch(fromEpoch.rawValue + 1) }

    /// The longest failure text the stores keep, in UTF-8 bytes (longer ones are cut).
    public static let maximumFailureBytes = 1024

    public init(
        id: UUID, player: PlayerID, from: String, to: String, fromEpoch: Epoch, step: TransferStep = .begun,
        failure: String? = nil, startedAt: Date = Date(), updatedAt: Date? = nil
    ) {
        self.id = id
        self.player = player
        self.from = from
        self.to = to
        self.fromEpoch = fromEpoch
        self.step = step
        self.failure = failure
        self.startedAt = startedAt
        self.updatedAt = updatedAt ?? startedAt
    }

    /// The failure as stored: cut to ``maximumFailureBytes`` on a character boundary.
    var storedFailure: String? {
        guard let failure, failure.utf8.count > Self.maximumFailureBytes else { return failure }
        var cut = failure
        while cut.utf8.count > Self.maximumFailureBytes { cut.removeLast() }
        return cut
    }

    func validate() throws(StorageError) {
        guard !from.isEmpty, !to.isEmpty else { throw .invalid("a transfer names its source and destination regions") }
        guard from != to else { throw .invalid("a transfer moves a player to another region; \(from) is the player's home already") }
        guard fromEpoch.rawValue >= 1 else { throw .invalid("a transfer starts from epoch 1 or later, got \(fromEpoch)") }
    }
}
