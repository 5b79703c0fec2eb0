import Foundation
import Logging
import MeridianMatchmaking
import PostgresNIO

extension PostgresRegionStore {
    static let profileColumns = "player_id, display_name, home_region, created_at, epoch, state, xp, level, ledger_seq, skill_rating, skill_deviation, skill_volatility"
    typealias ProfileRow = (UUID, String, String, Date, Int64, String, Int64, Int32, Int64, Double, Double, Double)

    static func profile(_ row: ProfileRow) throws(StorageError) -> PlayerProfile {
        guard let state = PlayerState(rawValue: row.5) else { throw .corrupt("player \(row.0) has unknown state \"\(row.5)\"") }
        return PlayerProfile(
            id: row.0, displayName: row.1, homeRegion: row.2, createdAt: row.3, epoch: Epoch(row.4),
            state: state, progression: Progression(xp: row.6), ledgerSequence: row.8,
            skill: SkillRating(rating: row.9, deviation: row.10, volatility: row.11)
        )
    }

    /// Reads the player's row; with `lock`, holds its row lock until the transaction ends.
    static func loadProfile(_ id: PlayerID, lock: Bool, on connection: PostgresConnection, logger: Logger) async throws -> PlayerProfile? {
        let query: PostgresQuery = lock
            ? "SELECT player_id, display_name, home_region, created_at, epoch, state, xp, level, ledger_seq, skill_rating, skill_deviation, skill_volatility FROM players WHERE player_id = \(id) FOR UPDATE"
            : "SELECT player_id, display_name, home_region, created_at, epoch, state, xp, level, ledger_seq, skill_rating, skill_deviation, skill_volatility FROM players WHERE player_id = \(id)"
        for try await row in try await connection.query(query, logger: logger).decode(ProfileRow.self) {
            return try profile(row)
        }
        return nil
    }

    static func requireProfile(_ id: PlayerID, lock: Bool, on connection: PostgresConnection, logger: Logger) async throws -> PlayerProfile {
        guard let profile = try await loadProfile(id, lock: lock, on: connection, logger: logger) else { throw StorageError.playerNotFound(id) }
        return profile
    }

    public func createPlayer(_ player: NewPlayer) async throws(StorageError) -> PlayerProfile {
        try player.validate()
        let logger = self.logger
        let initial = SkillRating.initial
        return try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO players (player_id, display_name, home_region, created_at, epoch, state, xp, level, ledger_seq,
                                     skill_rating, skill_deviation, skill_volatility)
                VALUES (\(player.id), \(player.displayName), \(player.homeRegion), \(player.createdAt), \(player.epoch.rawValue), 'active', 0, 1, 0,
                        \(initial.rating), \(initial.deviation), \(initial.volatility))
                ON CONFLICT (player_id) DO NOTHING
                """,
                logger: logger
            )
            return try await Self.requireProfile(player.id, lock: false, on: connection, logger: logger)
        }
    }

    public func player(_ id: PlayerID) async throws(StorageError) -> PlayerProfile? {
        let logger = self.logger
        return try await withConnection { connection in try await Self.loadProfile(id, lock: false, on: connection, logger: logger) }
    }

    public func renamePlayer(_ id: PlayerID, epoch: Epoch, displayName: String) async throws(StorageError) -> PlayerProfile {
        try Validation.displayName(displayName)
        let logger = self.logger
        return try await transaction { connection in
            var profile = try await Self.requireProfile(id, lock: true, on: connection, logger: logger)
            try PlayerFence.check(id, state: profile.state, current: profile.epoch, presented: epoch)
            try await connection.query("UPDATE players SET display_name = \(displayName) WHERE player_id = \(id)", logger: logger)
            profile.displayName = displayName
            return profile
        }
    }

    public func recordMatch(_ record: MatchRecord, epoch: Epoch) async throws(StorageError) -> MatchRecordResult {
        try MatchRecordResult(try await runLedger([MatchRecordResult.command(record, epoch: epoch)]), of: record.player)
    }

    public func matchHistory(of player: PlayerID, limit: Int) async throws(StorageError) -> [MatchRecord] {
        let logger = self.logger
        return try await withConnection { connection in
            try await Self.matchRecords(
                of: player,
                try await connection.query(
                    """
                    SELECT match_id, finished_at, outcome, xp_awarded, summary FROM match_history
                    WHERE player_id = \(player) ORDER BY finished_at DESC, match_id LIMIT \(Int64(max(0, limit)))
                    """,
                    logger: logger
                )
            )
        }
    }

    /// Rows of `match_id, finished_at, outcome, xp_awarded, summary`, in their order.
    static func matchRecords(of player: PlayerID, _ rows: PostgresRowSequence) async throws -> [MatchRecord] {
        var records: [MatchRecord] = []
        for try await (matchID, finishedAt, outcome, xp, summary) in rows.decode((UUID, Date, String, Int64, ByteBuffer).self) {
            guard let outcome = MatchOutcome(rawValue: outcome) else { throw StorageError.corrupt("match \(matchID) has unknown outcome \"\(outcome)\"") }
            records.append(MatchRecord(matchID: matchID, player: player, finishedAt: finishedAt, outcome: outcome, xpAwarded: xp, summary: summary))
        }
        return records
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
        let logger = self.logger
        return try await transaction { connection in
            let profile = try await Self.requireProfile(id, lock: true, on: connection, logger: logger)
            let rows = try await connection.query(
                "UPDATE players SET activation = activation + 1, activation_node = \(node) WHERE player_id = \(id) RETURNING activation", logger: logger
            )
            for try await activation in rows.decode(Int64.self) {
                return ActivationClaim(activation: Activation(activation), profile: profile)
            }
            throw StorageError.playerNotFound(id)
        }
    }

    /// Locks the player's row, applies `change` and writes state and epoch back, in one transaction.
    func transition(_ id: PlayerID, _ change: (inout PlayerProfile) throws(StorageError) -> Void) async throws(StorageError) -> PlayerProfile {
        let logger = self.logger
        return try await transaction { connection in
            var profile = try await Self.requireProfile(id, lock: true, on: connection, logger: logger)
            let before = (profile.state, profile.epoch)
            try change(&profile)
            if before != (profile.state, profile.epoch) {
                try await connection.query(
                    "UPDATE players SET state = \(profile.state.rawValue), epoch = \(profile.epoch.rawValue) WHERE player_id = \(id)", logger: logger
                )
                logger.debug("player fencing changed", metadata: [
                    "meridian.player": "\(id)", "meridian.epoch": "\(profile.epoch)", "meridian.player.state": "\(profile.state.rawValue)",
                ])
            }
            return profile
        }
    }
}
