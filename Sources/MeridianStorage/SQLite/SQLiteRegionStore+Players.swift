import Foundation
import Logging
import MeridianMatchmaking
import NIOCore
import SQLiteNIO

extension SQLiteRegionStore {
    static let profileColumns = "player_id, display_name, home_region, created_at, epoch, state, xp, level, ledger_seq, skill_rating, skill_deviation, skill_volatility"

    static func profile(_ row: SQLiteRow) throws(StorageError) -> PlayerProfile {
        PlayerProfile(
            id: try row.uuid("player_id"),
            displayName: try row.string("display_name"),
            homeRegion: try row.string("home_region"),
            createdAt: try row.date("created_at"),
            epoch: Epoch(try row.int64("epoch")),
            state: try row.enumValue("state", as: PlayerState.self),
            progression: Progression(xp: try row.int64("xp")),
            ledgerSequence: try row.int64("ledger_seq"),
            skill: SkillRating(rating: try row.double("skill_rating"), deviation: try row.double("skill_deviation"), volatility: try row.double("skill_volatility"))
        )
    }

    static func loadProfile(_ id: PlayerID, on connection: SQLiteConnection) async throws -> PlayerProfile? {
        let rows = try await connection.query("SELECT \(profileColumns) FROM players WHERE player_id = ?", [SQLiteValue.uuid(id)])
        return try rows.first.map { row throws(StorageError) in try profile(row) }
    }

    static func requireProfile(_ id: PlayerID, on connection: SQLiteConnection) async throws -> PlayerProfile {
        guard let profile = try await loadProfile(id, on: connection) else { throw StorageError.playerNotFound(id) }
        return profile
    }

    public func createPlayer(_ player: NewPlayer) async throws(StorageError) -> PlayerProfile {
        try player.validate()
        return try await database.write { connection in
            _ = try await connection.query(
                """
                INSERT INTO players (player_id, display_name, home_region, created_at, epoch, state, xp, level, ledger_seq,
                                     skill_rating, skill_deviation, skill_volatility)
                VALUES (?, ?, ?, ?, ?, 'active', 0, 1, 0, ?, ?, ?) ON CONFLICT (player_id) DO NOTHING
                """,
                [SQLiteValue.uuid(player.id), .text(player.displayName), .text(player.homeRegion), SQLiteValue.date(player.createdAt), SQLiteValue.int(player.epoch.rawValue),
                 .float(SkillRating.initial.rating), .float(SkillRating.initial.deviation), .float(SkillRating.initial.volatility)]
            )
            return try await Self.requireProfile(player.id, on: connection)
        }
    }

    public func player(_ id: PlayerID) async throws(StorageError) -> PlayerProfile? {
        try await database.exclusive { connection in try await Self.loadProfile(id, on: connection) }
    }

    public func renamePlayer(_ id: PlayerID, epoch: Epoch, displayName: String) async throws(StorageError) -> PlayerProfile {
        try Validation.displayName(displayName)
        return try await database.write { connection in
            let profile = try await Self.requireProfile(id, on: connection)
            try PlayerFence.check(id, state: profile.state, current: profile.epoch, presented: epoch)
            _ = try await connection.query("UPDATE players SET display_name = ? WHERE player_id = ?", [.text(displayName), SQLiteValue.uuid(id)])
            var renamed = profile
            renamed.displayName = displayName
            return renamed
        }
    }

    public func recordMatch(_ record: MatchRecord, epoch: Epoch) async throws(StorageError) -> MatchRecordResult {
        try MatchRecordResult(try await runLedger([MatchRecordResult.command(record, epoch: epoch)]), of: record.player)
    }

    public func matchHistory(of player: PlayerID, limit: Int) async throws(StorageError) -> [MatchRecord] {
        try await database.exclusive { connection in
            let rows = try await connection.query(
                """
                SELECT match_id, finished_at, outcome, xp_awarded, summary FROM match_history
                WHERE player_id = ? ORDER BY finished_at DESC, match_id LIMIT ?
                """,
                [SQLiteValue.uuid(player), .integer(max(0, limit))]
            )
            return try rows.map { row throws(StorageError) in try Self.matchRecord(row, of: player) }
        }
    }

    /// A row of `match_id, finished_at, outcome, xp_awarded, summary`.
    static func matchRecord(_ row: SQLiteRow, of player: PlayerID) throws(StorageError) -> MatchRecord {
        MatchRecord(
            matchID: try row.uuid("match_id"), player: player, finishedAt: try row.date("finished_at"),
            outcome: try row.enumValue("outcome", as: MatchOutcome.self), xpAwarded: try row.int64("xp_awarded"),
            summary: try row.blob("summary")
        )
    }

    public func freeze(_ id: PlayerID) async throws(StorageError) -> PlayerProfile {
        try await transition(id) { profile throws(StorageError) in
            profile.state = try PlayerTransitions.freeze(id, from: profile.state)
        }
    }

    public func unfreeze(_ id: PlayerID) async throws(StorageError) -> PlayerProfile {
        try await transition(id) { profile throws(StorageError) in
            profile.state = try PlayerTransitions.unfreeze(id, from: profile.state)
        }
    }

    public func tombstone(_ id: PlayerID) async throws(StorageError) -> PlayerProfile {
        try await transition(id) { profile throws(StorageError) in
            profile.state = try PlayerTransitions.tombstone(id, from: profile.state)
        }
    }

    public func setEpoch(_ id: PlayerID, to epoch: Epoch) async throws(StorageError) -> PlayerProfile {
        try await transition(id) { profile throws(StorageError) in
            profile.epoch = try PlayerTransitions.setEpoch(id, current: profile.epoch, to: epoch)
        }
    }

    public func claimActivation(of id: PlayerID, node: String) async throws(StorageError) -> ActivationClaim {
        try await database.write { connection in
            let profile = try await Self.requireProfile(id, on: connection)
            let rows = try await connection.query(
                "UPDATE players SET activation = activation + 1, activation_node = ? WHERE player_id = ? RETURNING activation",
                [.text(node), SQLiteValue.uuid(id)]
            )
            guard let row = rows.first else { throw StorageError.playerNotFound(id) }
            return ActivationClaim(activation: Activation(try row.int64("activation")), profile: profile)
        }
    }

    /// Reads the player, applies `change` and writes state and epoch back, in one transaction.
    func transition(_ id: PlayerID, _ change: @escaping @Sendable (inout PlayerProfile) throws(StorageError) -> Void) async throws(StorageError) -> PlayerProfile {
        let logger = self.logger
        return try await database.write { connection in
            var profile = try await Self.requireProfile(id, on: connection)
            let before = (profile.state, profile.epoch)
            try change(&profile)
            if before != (profile.state, profile.epoch) {
                _ = try await connection.query(
                    "UPDATE players SET state = ?, epoch = ? WHERE player_id = ?",
                    [.text(profile.state.rawValue), SQLiteValue.int(profile.epoch.rawValue), SQLiteValue.uuid(id)]
                )
                logger.debug("player fencing changed", metadata: [
                    "meridian.player": "\(id)", "meridian.epoch": "\(profile.epoch)", "meridian.player.state": "\(profile.state.rawValue)",
                ])
            }
            return profile
        }
    }
}
