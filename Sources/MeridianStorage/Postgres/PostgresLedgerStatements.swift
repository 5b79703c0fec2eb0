import Foundation
import PostgresNIO

/// The ledger's hot statements, prepared once per connection (postgres-nio caches them by name), so
/// a batch costs PostgreSQL no parsing or planning.
enum PostgresLedgerStatements {
    /// Everything a batch decides on, read by one statement (so as of one snapshot): part 0 are the
    /// players (XP in `amount`, the activation in `after`), part 1 all their balances, part 2 the events recorded under the batch's
    /// keys (one row per line; one row of NULL item, amount and after for an event without lines), part 3
    /// the batch's matches already in the history (the match id in `trade_id`). Nothing is locked: the
    /// write's compare-and-set on the players detects a change.
    struct LoadState: PostgresPreparedStatement {
        static let name = "meridian_ledger_load_state_v4"
        // LATERAL pins one index probe per player or key: a cached generic plan cannot see how few
        // the arrays hold and would otherwise drift to (hash joins over) sequential scans of whole
        // tables, which the balances' update churn makes slower still.
        static let sql = """
            SELECT 0 AS part, p.player_id, NULL::text AS key, p.ledger_seq AS seq, p.epoch, p.state AS label,
                   NULL::uuid AS trade_id, NULL::text AS item, p.xp AS amount, p.activation AS after
            FROM players p WHERE p.player_id = ANY($1)
            UNION ALL
            SELECT 1, b.player_id, NULL, b.as_of_seq, NULL, NULL, NULL, b.item, b.quantity, NULL
            FROM unnest($1::uuid[]) AS q(player_id)
            CROSS JOIN LATERAL (SELECT * FROM ledger_balances z WHERE z.player_id = q.player_id) b
            UNION ALL
            SELECT 2, e.player_id, e.idempotency_key, e.seq, NULL, e.kind, e.trade_id, l.item, l.delta, l.balance_after
            FROM unnest($2::uuid[], $3::text[]) AS k(player_id, idempotency_key)
            CROSS JOIN LATERAL (SELECT * FROM ledger_events x
                                WHERE x.player_id = k.player_id AND x.idempotency_key = k.idempotency_key) e
            LEFT JOIN LATERAL (SELECT * FROM ledger_lines y WHERE y.player_id = e.player_id AND y.seq = e.seq) l ON true
            UNION ALL
            SELECT 3, h.player_id, NULL, 0, NULL, NULL, h.match_id, NULL, NULL, NULL
            FROM unnest($4::uuid[], $5::uuid[]) AS m(player_id, match_id)
            CROSS JOIN LATERAL (SELECT player_id, match_id FROM match_history z
                                WHERE z.player_id = m.player_id AND z.match_id = m.match_id) h
            """
        typealias Row = (Int32, UUID, String?, Int64, Int64?, String?, UUID?, String?, Int64?, Int64?)
        var players: [UUID]
        var keyPlayers: [UUID]
        var keys: [String]
        var matchPlayers: [UUID]
        var matchIDs: [UUID]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 5)
            bindings.append(players)
            bindings.append(keyPlayers)
            bindings.append(keys)
            bindings.append(matchPlayers)
            bindings.append(matchIDs)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// The rows of a batch of plain appends (no trades, snapshots or replays): events, lines,
    /// balances and player sequences in one statement.
    struct WriteAppends: PostgresPreparedStatement {
        static let name = "meridian_ledger_write_appends_v3"
        static let sql = """
            WITH
            ev AS (INSERT INTO ledger_events (player_id, seq, kind, idempotency_key, epoch, trade_id, reason, recorded_at)
                   SELECT p, s, k, i, e, NULL, r, a
                   FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::timestamptz[]) AS x(p, s, k, i, e, r, a)),
            ln AS (INSERT INTO ledger_lines (player_id, seq, item, delta, balance_after)
                   SELECT * FROM unnest($8::uuid[], $9::bigint[], $10::text[], $11::bigint[], $12::bigint[])),
            bl AS (INSERT INTO ledger_balances (player_id, item, quantity, as_of_seq)
                   SELECT * FROM unnest($13::uuid[], $14::text[], $15::bigint[], $16::bigint[])
                   ON CONFLICT (player_id, item) DO UPDATE SET quantity = EXCLUDED.quantity, as_of_seq = EXCLUDED.as_of_seq),
            pl AS (UPDATE players SET ledger_seq = u.s
                   FROM unnest($17::uuid[], $18::bigint[], $19::bigint[], $20::bigint[], $21::bigint[]) AS u(p, s, o, e, a)
                   WHERE players.player_id = u.p AND players.ledger_seq = u.o AND players.epoch = u.e AND players.activation = u.a
                     AND players.state = 'active'
                   RETURNING 1)
            SELECT count(*) FROM pl
            """
        typealias Row = Int64
        var plan: LedgerWritePlan
        var decidedOn: [PlayerID: LedgerPlayerRow]

        /// Whether `plan` writes only what this statement covers.
        static func covers(_ plan: LedgerWritePlan) -> Bool {
            plan.snapshots.isEmpty && plan.replays.isEmpty && plan.outbox.isEmpty && plan.inbox.isEmpty
                && plan.settlements.isEmpty && plan.matches.isEmpty && plan.progress.isEmpty && plan.events.allSatisfy { $0.tradeID == nil }
        }

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 21)
            let events = plan.events
            bindings.append(events.map(\.player))
            bindings.append(events.map(\.sequence))
            bindings.append(events.map(\.kind.rawValue))
            bindings.append(events.map(\.idempotencyKey))
            bindings.append(events.map(\.epoch.rawValue))
            bindings.append(events.map(\.reason))
            bindings.append(events.map(\.recordedAt))
            let lines = plan.lines
            bindings.append(lines.map(\.player))
            bindings.append(lines.map(\.sequence))
            bindings.append(lines.map(\.item.rawValue))
            bindings.append(lines.map(\.delta))
            bindings.append(lines.map(\.balanceAfter))
            let balances = plan.balances
            bindings.append(balances.map(\.player))
            bindings.append(balances.map(\.item.rawValue))
            bindings.append(balances.map(\.quantity))
            bindings.append(balances.map(\.asOfSequence))
            let guards = PlayerGuard.make(plan, decidedOn: decidedOn)
            bindings.append(guards.map(\.player))
            bindings.append(guards.map(\.sequence))
            bindings.append(guards.map(\.previousSequence))
            bindings.append(guards.map(\.epoch))
            bindings.append(guards.map(\.activation))
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64.self) }
    }
}

/// The compare-and-set of one player a batch appends to: the new sequence, written only if the
/// player still has the sequence, epoch and activation the batch was decided on and is still active.
struct PlayerGuard {
    var player: PlayerID
    var sequence: Int64
    var previousSequence: Int64
    var epoch: Int64
    var activation: Int64

    /// One guard per player with new events, in id order (so concurrent batches update rows in the same order).
    static func make(_ plan: LedgerWritePlan, decidedOn: [PlayerID: LedgerPlayerRow]) -> [PlayerGuard] {
        plan.playerSequences.sorted { UUID.byteOrder($0.key, $1.key) }.map { player, sequence in
            // A player absent from `decidedOn` cannot have events; -1 makes such a guard fail loudly.
            let row = decidedOn[player]
            return PlayerGuard(
                player: player, sequence: sequence, previousSequence: row?.sequence ?? -1, epoch: row?.epoch.rawValue ?? -1,
                activation: row?.activation.rawValue ?? -1
            )
        }
    }
}
