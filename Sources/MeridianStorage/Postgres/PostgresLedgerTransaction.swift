import Foundation
import Logging
import MeridianMatchmaking
import PostgresNIO

/// The ledger batch's reads and writes on one pooled connection, inside a READ COMMITTED transaction.
///
/// Optimistic: one statement reads everything the batch decides on (players, balances, recorded
/// keys) without locking, and one statement of data-modifying CTEs over `unnest`ed arrays writes
/// every row, guarded by a compare-and-set on each player it appends to (same sequence and epoch,
/// still active). If another transaction changed such a player meanwhile, the guard fails (the
/// update waits for that transaction and re-checks), the write reports fewer players than planned,
/// and the whole transaction is rolled back and re-run (``LedgerWriteConflict``). A batch thus costs
/// four round trips — BEGIN, read, write, COMMIT — whatever its size. Concurrent inserts of the same
/// key or trade decision fail on unique constraints and are re-run the same way.
struct PostgresLedgerTransaction: LedgerTransaction {
    let connection: PostgresConnection
    let logger: Logger
    /// Lock the players (in id order) before reading them: used when re-running after a conflict,
    /// so that a hot player cannot make a batch fail again and again.
    var lockPlayersFirst = false

    func loadOutbox(_ ids: [TradeID]) async throws -> [TradeID: TradeOutboxEntry] {
        // Lock the outbox rows first: a refund and a delivery acknowledgement of one trade serialize here.
        try await connection.query("SELECT trade_id FROM trade_outbox WHERE trade_id = ANY(\(ids)) ORDER BY trade_id FOR UPDATE", logger: logger)
        let entries = try await PostgresRegionStore.outboxEntries(ids, on: connection, logger: logger)
        return Dictionary(entries.map { ($0.tradeID, $0) }, uniquingKeysWith: { first, _ in first })
    }

    func loadState(players: [PlayerID], keys: [PostingKey], matches: [MatchKey]) async throws -> LedgerBatchState {
        var state = LedgerBatchState()
        if lockPlayersFirst {
            try await connection.query(
                "SELECT 1 FROM players WHERE player_id = ANY(\(players)) ORDER BY player_id FOR NO KEY UPDATE", logger: logger
            )
        }
        let statement = PostgresLedgerStatements.LoadState(
            players: players, keyPlayers: keys.map(\.player), keys: keys.map(\.key),
            matchPlayers: matches.map(\.player), matchIDs: matches.map(\.match)
        )
        for try await (part, player, key, seq, epoch, label, tradeID, item, amount, after) in try await connection.execute(statement, logger: logger) {
            switch part {
            case 0:
                guard let epoch, let label, let playerState = PlayerState(rawValue: label), let xp = amount else {
                    throw StorageError.corrupt("player \(player) has an unreadable state")
                }
                guard let activation = after else { throw StorageError.corrupt("player \(player) has no activation") }
                state.players[player] = LedgerPlayerRow(epoch: Epoch(epoch), activation: Activation(activation), state: playerState, sequence: seq, xp: xp)
            case 1:
                guard let item, let amount else { throw StorageError.corrupt("a balance of player \(player) is unreadable") }
                state.balances[player, default: [:]][ItemKind(item)] = amount
            case 2:
                guard let key, let label, let kind = LedgerEventKind(rawValue: label) else {
                    throw StorageError.corrupt("ledger event \(player)/\(seq) is unreadable")
                }
                let postingKey = PostingKey(player: player, key: key)
                if state.postings[postingKey] == nil {
                    state.postings[postingKey] = StoredPosting(sequence: seq, kind: kind, tradeID: tradeID, deltas: [:], balancesAfter: [:])
                }
                // No item: the event has no lines (a match result without rewards).
                guard let item else { continue }
                guard let amount, let after else { throw StorageError.corrupt("ledger event \(player)/\(seq) has an unreadable line") }
                state.postings[postingKey]?.deltas[ItemKind(item)] = amount
                state.postings[postingKey]?.balancesAfter[ItemKind(item)] = after
            default:
                guard let match = tradeID else { throw StorageError.corrupt("a match history row of player \(player) is unreadable") }
                state.recordedMatches.insert(MatchKey(player: player, match: match))
            }
        }
        return state
    }

    func loadInbox(_ ids: [TradeID]) async throws -> [TradeID: TradeInboxRecord] {
        let rows = try await connection.query(
            "SELECT trade_id, receiver, decision, reason, recorded_at FROM trade_inbox WHERE trade_id = ANY(\(ids))", logger: logger
        ).decode(PostgresRegionStore.InboxRow.self)
        var result: [TradeID: TradeInboxRecord] = [:]
        for try await row in rows {
            let record = try PostgresRegionStore.inboxRecord(row)
            result[record.tradeID] = record
        }
        return result
    }

    func write(_ plan: LedgerWritePlan, decidedOn players: [PlayerID: LedgerPlayerRow]) async throws {
        let expected = plan.playerSequences.count
        var updated = 0
        if PostgresLedgerStatements.WriteAppends.covers(plan) {
            for try await count in try await connection.execute(PostgresLedgerStatements.WriteAppends(plan: plan, decidedOn: players), logger: logger) {
                updated = Int(count)
            }
        } else {
            updated = try await writeAll(plan, decidedOn: players)
        }
        guard updated == expected else { throw LedgerWriteConflict(expected: expected, updated: updated) }
    }

    /// Writes any plan (trades, snapshots, replays included) with one statement; returns how many
    /// player guards held.
    private func writeAll(_ plan: LedgerWritePlan, decidedOn players: [PlayerID: LedgerPlayerRow]) async throws -> Int {
        let events = plan.events
        let lines = plan.lines
        let balances = plan.balances
        let guards = PlayerGuard.make(plan, decidedOn: players)
        let matches = plan.matches
        // Per guard, what match results changed: XP and level (`hasProgress`), the rating (`hasSkill`).
        let progress = guards.map { plan.progress[$0.player] }
        let hasProgress = progress.map { $0 != nil }
        let xp = progress.map { $0?.xp ?? 0 }
        let levels = progress.map { Int32(clamping: $0?.level ?? 1) }
        let skills = progress.map { $0?.skill }
        let hasSkill = skills.map { $0 != nil }
        let ratings = skills.map { $0?.rating ?? 0 }
        let deviations = skills.map { $0?.deviation ?? 0 }
        let volatilities = skills.map { $0?.volatility ?? 0 }
        let snapshots = plan.snapshots
        let replays = plan.replays
        let outbox = plan.outbox
        let outboxItems = outbox.flatMap { entry in entry.items.sorted { $0.key < $1.key }.map { (entry.tradeID, $0.key, $0.value) } }
        let inbox = plan.inbox
        let settlements = plan.settlements
        // postgres-nio binds no arrays of optionals: a trade id travels as text, '' meaning NULL.
        let eventTrades = events.map { $0.tradeID?.uuidString.lowercased() ?? "" }
        let settledAt = outbox.map { $0.settledAt ?? $0.createdAt }
        let hasSettledAt = outbox.map { $0.settledAt != nil }

        let rows = try await connection.query(
            """
            WITH
            ev AS (INSERT INTO ledger_events (player_id, seq, kind, idempotency_key, epoch, trade_id, reason, recorded_at)
                   SELECT p, s, k, i, e, NULLIF(t, '')::uuid, r, a
                   FROM unnest(\(events.map(\.player))::uuid[], \(events.map(\.sequence))::bigint[], \(events.map(\.kind.rawValue))::text[],
                               \(events.map(\.idempotencyKey))::text[], \(events.map(\.epoch.rawValue))::bigint[], \(eventTrades)::text[],
                               \(events.map(\.reason))::text[], \(events.map(\.recordedAt))::timestamptz[]) AS x(p, s, k, i, e, t, r, a)),
            ln AS (INSERT INTO ledger_lines (player_id, seq, item, delta, balance_after)
                   SELECT * FROM unnest(\(lines.map(\.player))::uuid[], \(lines.map(\.sequence))::bigint[], \(lines.map(\.item.rawValue))::text[],
                                        \(lines.map(\.delta))::bigint[], \(lines.map(\.balanceAfter))::bigint[])),
            bl AS (INSERT INTO ledger_balances (player_id, item, quantity, as_of_seq)
                   SELECT * FROM unnest(\(balances.map(\.player))::uuid[], \(balances.map(\.item.rawValue))::text[],
                                        \(balances.map(\.quantity))::bigint[], \(balances.map(\.asOfSequence))::bigint[])
                   ON CONFLICT (player_id, item) DO UPDATE SET quantity = EXCLUDED.quantity, as_of_seq = EXCLUDED.as_of_seq),
            mh AS (INSERT INTO match_history (player_id, match_id, finished_at, outcome, xp_awarded, summary)
                   SELECT * FROM unnest(\(matches.map(\.player))::uuid[], \(matches.map(\.matchID))::uuid[], \(matches.map(\.finishedAt))::timestamptz[],
                                        \(matches.map(\.outcome.rawValue))::text[], \(matches.map(\.xpAwarded))::bigint[], \(matches.map(\.summary))::bytea[])),
            pl AS (UPDATE players SET ledger_seq = u.s,
                          xp = CASE WHEN u.hp THEN u.x ELSE players.xp END, level = CASE WHEN u.hp THEN u.l ELSE players.level END,
                          skill_rating = CASE WHEN u.hs THEN u.r ELSE players.skill_rating END,
                          skill_deviation = CASE WHEN u.hs THEN u.d ELSE players.skill_deviation END,
                          skill_volatility = CASE WHEN u.hs THEN u.v ELSE players.skill_volatility END
                   FROM unnest(\(guards.map(\.player))::uuid[], \(guards.map(\.sequence))::bigint[],
                               \(guards.map(\.previousSequence))::bigint[], \(guards.map(\.epoch))::bigint[], \(guards.map(\.activation))::bigint[],
                               \(hasProgress)::bool[], \(xp)::bigint[], \(levels)::int[], \(hasSkill)::bool[],
                               \(ratings)::float8[], \(deviations)::float8[], \(volatilities)::float8[]) AS u(p, s, o, e, a, hp, x, l, hs, r, d, v)
                   WHERE players.player_id = u.p AND players.ledger_seq = u.o AND players.epoch = u.e AND players.activation = u.a
                     AND players.state = 'active'
                   RETURNING 1),
            sn AS (INSERT INTO ledger_snapshots (player_id, seq, item, quantity)
                   SELECT * FROM unnest(\(snapshots.map(\.player))::uuid[], \(snapshots.map(\.sequence))::bigint[],
                                        \(snapshots.map(\.item.rawValue))::text[], \(snapshots.map(\.quantity))::bigint[])),
            rp AS (INSERT INTO ledger_replays (player_id, idempotency_key, seq, replayed_at)
                   SELECT * FROM unnest(\(replays.map(\.player))::uuid[], \(replays.map(\.idempotencyKey))::text[],
                                        \(replays.map(\.sequence))::bigint[], \(replays.map(\.replayedAt))::timestamptz[])),
            ob AS (INSERT INTO trade_outbox (trade_id, giver, receiver, destination_region, status, created_at, settled_at)
                   SELECT t, g, r, d, s, c, CASE WHEN h THEN a END
                   FROM unnest(\(outbox.map(\.tradeID))::uuid[], \(outbox.map(\.giver))::uuid[], \(outbox.map(\.receiver))::uuid[],
                               \(outbox.map(\.destinationRegion))::text[], \(outbox.map(\.status.rawValue))::text[],
                               \(outbox.map(\.createdAt))::timestamptz[], \(settledAt)::timestamptz[], \(hasSettledAt)::bool[]) AS x(t, g, r, d, s, c, a, h)),
            oi AS (INSERT INTO trade_outbox_items (trade_id, item, quantity)
                   SELECT * FROM unnest(\(outboxItems.map(\.0))::uuid[], \(outboxItems.map(\.1.rawValue))::text[], \(outboxItems.map(\.2))::bigint[])),
            ib AS (INSERT INTO trade_inbox (trade_id, receiver, decision, reason, recorded_at)
                   SELECT * FROM unnest(\(inbox.map(\.tradeID))::uuid[], \(inbox.map(\.receiver))::uuid[], \(inbox.map(\.decision.rawValue))::text[],
                                        \(inbox.map(\.reason))::text[], \(inbox.map(\.recordedAt))::timestamptz[])),
            st AS (UPDATE trade_outbox SET status = u.s, settled_at = u.a
                   FROM unnest(\(settlements.map(\.tradeID))::uuid[], \(settlements.map(\.status.rawValue))::text[],
                               \(settlements.map(\.settledAt))::timestamptz[]) AS u(t, s, a)
                   WHERE trade_outbox.trade_id = u.t)
            SELECT count(*) FROM pl
            """,
            logger: logger
        )
        var updated = 0
        for try await count in rows.decode(Int64.self) { updated = Int(count) }
        return updated
    }
}
