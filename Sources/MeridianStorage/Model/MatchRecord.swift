import Foundation
import NIOCore

/// How a match ended for one player.
public enum MatchOutcome: String, Hashable, Sendable {
    case win, loss, draw, abandoned
    /// The node running the match was lost before it finished; the match awards no reward.
    case serverLost = "server_lost"
}

/// One player's result of one match, written to the player's home region by the match actor.
public struct MatchRecord: Hashable, Sendable {
    public var matchID: MatchID
    public var player: PlayerID
    public var finishedAt: Date
    public var outcome: MatchOutcome
    /// XP the match earned; added to the player's progression exactly once.
    public var xpAwarded: Int64
    /// Game-specific result (e.g. a protobuf message); opaque to the store, at most ``maximumSummaryBytes``.
    public var summary: ByteBuffer

    public init(matchID: MatchID, player: PlayerID, finishedAt: Date, outcome: MatchOutcome, xpAwarded: Int64, summary: ByteBuffer = ByteBuffer()) {
        self.matchID = matchID
        self.player = player
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.xpAwarded = xpAwarded
        self.summary = summary
    }

    /// The largest summary the stores accept.
    public static let maximumSummaryBytes = 64 * 1024

    func validate() throws(StorageError) {
        guard xpAwarded >= 0 else { throw .invalid("a match cannot award negative XP (\(xpAwarded))") }
        guard summary.readableBytes <= Self.maximumSummaryBytes else {
            throw .invalid("a match summary is at most \(Self.maximumSummaryBytes) bytes, got \(summary.readableBytes)")
        }
    }
}

/// The effect of ``RegionStore/recordMatch(_:epoch:)``.
public struct MatchRecordResult: Hashable, Sendable {
    /// False when this match was already recorded for the player (a retry): nothing changed.
    public var recorded: Bool
    /// The player's progression after the call.
    public var progression: Progression

    public init(recorded: Bool, progression: Progression) {
        self.recorded = recorded
        self.progression = progression
    }
}

extension MatchRecordResult {
    /// ``RegionStore/recordMatch(_:epoch:)`` is a match result without rewards that leaves the rating
    /// unchanged: the one command a backend runs for it.
    static func command(_ record: MatchRecord, epoch: Epoch) -> LedgerCommand {
        .matchResult(MatchResultApplication(record: record, epoch: epoch, rewards: [:], skillAfter: nil))
    }

    /// The result of ``command(_:epoch:)``, from its batch.
    init(_ outcome: LedgerBatch.Outcome, of player: PlayerID) throws(StorageError) {
        guard let result = outcome.results.first else {
            throw StorageError(.backend, "the store returned no result for a match result")
        }
        let receipt = try result.get()
        guard let row = outcome.players[player] else { throw .playerNotFound(player) }
        self.init(recorded: !receipt.replayed, progression: Progression(xp: row.xp))
    }
}
