import Foundation
import Logging
import MeridianMatchmaking
import PostgresNIO

extension PostgresRegionStore {
    public func exportPlayer(_ id: PlayerID) async throws(StorageError) -> PlayerExport {
        let logger = self.logger
        return try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            guard let export = try await Self.loadExport(id, on: connection, logger: logger) else { throw StorageError.playerNotFound(id) }
            var pending: Int64 = 0
            for try await count in try await connection.query(
                "SELECT COUNT(*) FROM trade_outbox WHERE giver = \(id) AND status = 'pending'", logger: logger
            ).decode(Int64.self) {
                pending = count
            }
            try TransferExportRule.check(export.profile, pendingTradesOut: pending)
            return export
        }
    }

    public func importPlayer(_ export: PlayerExport, epoch: Epoch) async throws(StorageError) -> PlayerProfile {
        let logger = self.logger
        // Two imports of an absent player race on the primary key; the loser re-runs and finds the copy.
        return try await transaction(retries: configuration.transactionRetries) { connection in
            let id = export.player
            let existing = try await Self.loadProfile(id, lock: true, on: connection, logger: logger)
            var stored: PlayerExport?
            if existing?.state == .incoming { stored = try await Self.loadExport(id, on: connection, logger: logger) }
            let decision = try PlayerImport.decide(export, epoch: epoch, existing: existing, storedCopy: stored)
            if decision == .unchanged {
                return try await Self.requireProfile(id, lock: false, on: connection, logger: logger)
            }
            // A replaced copy's activation is carried past: a home actor that claimed the player
            // before it left must not match a claim made after it came back.
            var replacedActivation: Int64?
            if decision == .replace {
                var previous: Int64 = 0
                for try await activation in try await connection.query("SELECT activation FROM players WHERE player_id = \(id)", logger: logger).decode(Int64.self) {
                    previous = activation
                }
                replacedActivation = previous
                try await Self.deletePlayer(id, on: connection, logger: logger)
            }
            try await Self.insertCopy(export, epoch: epoch, on: connection, logger: logger)
            if let previous = replacedActivation {
                try await connection.query("UPDATE players SET activation = \(previous + 1) WHERE player_id = \(id)", logger: logger)
            }
            logger.debug("player imported", metadata: [
                "meridian.player": "\(id)", "meridian.epoch": "\(epoch)", "meridian.ledger.sequence": "\(export.profile.ledgerSequence)",
                "meridian.player.replaced": "\(existing?.state.rawValue ?? "none")",
            ])
            return try await Self.requireProfile(id, lock: false, on: connection, logger: logger)
        }
    }

    public func activateIncoming(_ id: PlayerID, epoch: Epoch) async throws(StorageError) -> PlayerProfile {
        try await transition(id) { profile throws(StorageError) in
            profile.state = try PlayerTransitions.activate(id, from: profile.state, current: profile.epoch, to: epoch)
        }
    }

    public func discardIncoming(_ id: PlayerID) async throws(StorageError) {
        let logger = self.logger
        try await transaction { connection in
            guard let profile = try await Self.loadProfile(id, lock: true, on: connection, logger: logger) else { return }
            try PlayerTransitions.discard(id, from: profile.state)
            try await Self.deletePlayer(id, on: connection, logger: logger)
            logger.debug("incoming player discarded", metadata: ["meridian.player": "\(id)", "meridian.epoch": "\(profile.epoch)"])
        }
    }

    /// The player's data as one export, or nil if absent; run inside a REPEATABLE READ transaction
    /// (or with the player's row locked) for a consistent read.
    static func loadExport(_ id: PlayerID, on connection: PostgresConnection, logger: Logger) async throws -> PlayerExport? {
        guard let profile = try await loadProfile(id, lock: false, on: connection, logger: logger) else { return nil }
        let matches = try await matchRecords(
            of: id,
            try await connection.query(
                "SELECT match_id, finished_at, outcome, xp_awarded, summary FROM match_history WHERE player_id = \(id) ORDER BY finished_at, match_id",
                logger: logger
            )
        )
        var balances: ItemQuantities = [:]
        for try await (item, quantity) in try await connection.query(
            "SELECT item, quantity FROM ledger_balances WHERE player_id = \(id)", logger: logger
        ).decode((String, Int64).self) {
            balances[ItemKind(item)] = quantity
        }
        var snapshotRows: [(sequence: Int64, item: ItemKind, quantity: Int64)] = []
        for try await (seq, item, quantity) in try await connection.query(
            "SELECT seq, item, quantity FROM ledger_snapshots WHERE player_id = \(id) ORDER BY seq, item", logger: logger
        ).decode((Int64, String, Int64).self) {
            snapshotRows.append((seq, ItemKind(item), quantity))
        }
        return PlayerExport(
            profile: profile, matches: matches, events: try await loadEvents(of: id, after: 0, limit: .max, on: connection, logger: logger),
            replays: try await loadReplays(of: id, on: connection, logger: logger), balances: balances,
            snapshots: PlayerExport.snapshots(snapshotRows)
        )
    }

    /// Deletes every row of the player (children first: `match_history` references `players`).
    static func deletePlayer(_ id: PlayerID, on connection: PostgresConnection, logger: Logger) async throws {
        for table in ["ledger_lines", "ledger_events", "ledger_balances", "ledger_snapshots", "ledger_replays", "match_history", "players"] {
            var query = PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE player_id = $1")
            query.binds.append(id, context: .default)
            try await connection.query(query, logger: logger)
        }
    }

    /// Writes the player row (`incoming` at `epoch`) and every row of the export: one statement per
    /// table over `unnest`ed arrays, whatever the ledger's length.
    ///
    /// Times travel as whole microseconds since 1970 (`micros`, rounded) and become timestamps in SQL:
    /// postgres-nio truncates a `Date` it encodes, which could move a time read from another backend
    /// back by a microsecond, and the copy must be the source's data exactly.
    static func insertCopy(_ export: PlayerExport, epoch: Epoch, on connection: PostgresConnection, logger: Logger) async throws {
        let profile = export.incomingProfile(epoch: epoch)
        try await connection.query(
            """
            INSERT INTO players (player_id, display_name, home_region, created_at, epoch, state, xp, level, ledger_seq,
                                 skill_rating, skill_deviation, skill_volatility)
            VALUES (\(profile.id), \(profile.displayName), \(profile.homeRegion),
                    TIMESTAMPTZ 'epoch' + \(micros(profile.createdAt))::bigint * INTERVAL '1 microsecond', \(profile.epoch.rawValue),
                    \(profile.state.rawValue), \(profile.progression.xp), \(Int32(clamping: profile.progression.level)), \(profile.ledgerSequence),
                    \(profile.skill.rating), \(profile.skill.deviation), \(profile.skill.volatility))
            """,
            logger: logger
        )
        let rows = PlayerCopyRows(export)
        let matches = rows.matches
        try await connection.query(
            """
            INSERT INTO match_history (player_id, match_id, finished_at, outcome, xp_awarded, summary)
            SELECT p, m, (TIMESTAMPTZ 'epoch' + f * INTERVAL '1 microsecond'), o, x, s
            FROM unnest(\(matches.map(\.player))::uuid[], \(matches.map(\.matchID))::uuid[], \(matches.map { micros($0.finishedAt) })::bigint[],
                        \(matches.map(\.outcome.rawValue))::text[], \(matches.map(\.xpAwarded))::bigint[], \(matches.map(\.summary))::bytea[]) AS u(p, m, f, o, x, s)
            """,
            logger: logger
        )
        let events = rows.events
        // postgres-nio binds no arrays of optionals: a trade id travels as text, '' meaning NULL.
        let eventTrades = events.map { $0.tradeID?.uuidString.lowercased() ?? "" }
        try await connection.query(
            """
            INSERT INTO ledger_events (player_id, seq, kind, idempotency_key, epoch, trade_id, reason, recorded_at)
            SELECT p, s, k, i, e, NULLIF(t, '')::uuid, r, (TIMESTAMPTZ 'epoch' + a * INTERVAL '1 microsecond')
            FROM unnest(\(events.map(\.player))::uuid[], \(events.map(\.sequence))::bigint[], \(events.map(\.kind.rawValue))::text[],
                        \(events.map(\.idempotencyKey))::text[], \(events.map(\.epoch.rawValue))::bigint[], \(eventTrades)::text[],
                        \(events.map(\.reason))::text[], \(events.map { micros($0.recordedAt) })::bigint[]) AS x(p, s, k, i, e, t, r, a)
            """,
            logger: logger
        )
        let lines = rows.lines
        try await connection.query(
            """
            INSERT INTO ledger_lines (player_id, seq, item, delta, balance_after)
            SELECT * FROM unnest(\(lines.map(\.player))::uuid[], \(lines.map(\.sequence))::bigint[], \(lines.map(\.item.rawValue))::text[],
                                 \(lines.map(\.delta))::bigint[], \(lines.map(\.balanceAfter))::bigint[])
            """,
            logger: logger
        )
        let balances = rows.balances
        try await connection.query(
            """
            INSERT INTO ledger_balances (player_id, item, quantity, as_of_seq)
            SELECT * FROM unnest(\(balances.map(\.player))::uuid[], \(balances.map(\.item.rawValue))::text[],
                                 \(balances.map(\.quantity))::bigint[], \(balances.map(\.asOfSequence))::bigint[])
            """,
            logger: logger
        )
        let snapshots = rows.snapshots
        try await connection.query(
            """
            INSERT INTO ledger_snapshots (player_id, seq, item, quantity)
            SELECT * FROM unnest(\(snapshots.map(\.player))::uuid[], \(snapshots.map(\.sequence))::bigint[],
                                 \(snapshots.map(\.item.rawValue))::text[], \(snapshots.map(\.quantity))::bigint[])
            """,
            logger: logger
        )
        let replays = rows.replays
        // WITH ORDINALITY: the identity column numbers the replays in the source's order.
        try await connection.query(
            """
            INSERT INTO ledger_replays (player_id, idempotency_key, seq, replayed_at)
            SELECT p, k, s, (TIMESTAMPTZ 'epoch' + a * INTERVAL '1 microsecond')
            FROM unnest(\(replays.map(\.player))::uuid[], \(replays.map(\.idempotencyKey))::text[],
                        \(replays.map(\.sequence))::bigint[], \(replays.map { micros($0.replayedAt) })::bigint[]) WITH ORDINALITY AS x(p, k, s, a, n)
            ORDER BY n
            """,
            logger: logger
        )
    }

    private static func micros(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }
}
