import Foundation
import MeridianCluster
import MeridianMatchmaking
import MeridianStorage

/// Where a match runs: the match's id and the node (one process lifetime of it) hosting it.
///
/// The incarnation lets a player's actor tell "the node running my match died" (that
/// incarnation went down) from "the node restarted and runs other matches now".
public struct MatchAssignment: Sendable, Hashable {
    public var matchID: UUID
    public var region: String
    public var shard: Int
    public var node: String
    public var incarnation: UInt64

    public init(matchID: UUID, region: String, shard: Int, node: String, incarnation: UInt64) {
        self.matchID = matchID
        self.region = region
        self.shard = shard
        self.node = node
        self.incarnation = incarnation
    }

}

/// What an online player is doing, held by the player's actor in its home region.
public enum PlayerSession: Sendable, Hashable {
    /// Online, not queued and not playing.
    case idle
    /// Waiting in `region`'s matchmaker with `ticket` (held here so the queue can be rebuilt
    /// from the tickets' owners if the matchmaker's node is lost).
    case queued(QueueTicket, region: String)
    /// Seated in a match.
    case inMatch(MatchAssignment)

    /// A one-line description for status output.
    public var summary: String {
        switch self {
        case .idle: "idle"
        case .queued(let ticket, let region): "queued in \(region) (ticket \(ticket.id.uuidString.lowercased().prefix(8)))"
        case .inMatch(let match): "in match \(match.matchID.uuidString.lowercased().prefix(8)) on \(match.node) (shard \(match.region)/\(match.shard))"
        }
    }
}

/// One player's result of one match, sent by the match actor to the player's home region.
/// Applied exactly once per (match, player): a retried or duplicated message changes nothing.
public struct MatchResultMessage: Sendable, Hashable {
    public var matchID: UUID
    public var player: UUID
    /// `win`, `loss`, `draw`, `abandoned` or `server_lost`.
    public var outcome: String
    /// 0 = first place; players eliminated later rank better.
    public var placement: Int
    public var xp: Int64
    public var rewards: [String: Int64]
    /// The player's rating after this match; nil leaves it unchanged.
    public var skillAfter: SkillRating?
    /// Seconds since 1970.
    public var finishedAt: Double

    public init(
        matchID: UUID, player: UUID, outcome: String, placement: Int, xp: Int64,
        rewards: [String: Int64], skillAfter: SkillRating?, finishedAt: Date
    ) {
        self.matchID = matchID
        self.player = player
        self.outcome = outcome
        self.placement = placement
        self.xp = xp
        self.rewards = rewards
        self.skillAfter = skillAfter
        self.finishedAt = finishedAt.timeIntervalSince1970
    }

}

/// Why a player's actor refused a session change.
public struct PlayerSessionError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The player already waits in a queue.
        case alreadyQueued
        /// The player is seated in a running match.
        case alreadyInMatch
        /// The ticket named is not the player's current one.
        case notQueued
        /// A party ticket names the player, who has not joined that leader's party or is offline.
        case noPartyConsent
        /// The player cannot take an invitation now (offline, or too many pending).
        case notInvitable
        /// No (unexpired) invitation from that leader.
        case noInvitation
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// One line of a player's match history as other nodes see it.
public struct MatchHistoryEntry: Sendable, Hashable {
    public var matchID: UUID
    public var outcome: String
    public var xp: Int64
    /// Seconds since 1970.
    public var finishedAt: Double

    init(_ record: MatchRecord) {
        matchID = record.matchID
        outcome = record.outcome.rawValue
        xp = record.xpAwarded
        finishedAt = record.finishedAt.timeIntervalSince1970
    }

}

/// A matchmaking ticket as its owner (the party leader's actor) keeps it: who plays together,
/// where they are, which regions' queues already had it.
public struct QueueTicket: Sendable, Hashable {
    public struct Member: Sendable, Hashable {
        public var player: UUID
        public var homeRegion: String

        public init(player: UUID, homeRegion: String) {
            self.player = player
            self.homeRegion = homeRegion
        }

    }

    public var id: UUID
    /// The party, leader first (one member for a solo player).
    public var members: [Member]
    /// The client's measured round-trip time to each region, in milliseconds.
    public var rttMilliseconds: [String: Int]
    /// Regions whose matchmakers already had the ticket (overflow never goes back).
    public var visitedRegions: [String]
    /// When the ticket was first queued, seconds since 1970 (wait time survives overflow and failover).
    public var queuedAt: Double

    public init(id: UUID, members: [Member], rttMilliseconds: [String: Int], visitedRegions: [String] = [], queuedAt: Date = Date()) {
        self.id = id
        self.members = members
        self.rttMilliseconds = rttMilliseconds
        self.visitedRegions = visitedRegions
        self.queuedAt = queuedAt.timeIntervalSince1970
    }

    public var leader: UUID? { members.first?.player }

}
