/// The audit's SQL, valid in both SQLite and PostgreSQL. Sums are cast to BIGINT (PostgreSQL's SUM of
/// BIGINT is NUMERIC). Each query recomputes from `ledger_lines`/`ledger_events`, never from caches.
enum AuditQueries {
    static let limit = LedgerAuditData.mismatchLimit

    /// Copies a transfer holds outside the totals: an `incoming` copy (not yet the player's home) and a
    /// `tombstoned` one (no longer). The per-store consistency checks still cover them.
    static let uncountedStates = "('incoming', 'tombstoned')"

    /// Whether the rows of `player` (a column) count in this store's totals; rows without a player row count.
    static func counted(_ player: String) -> String {
        "NOT EXISTS (SELECT 1 FROM players c WHERE c.player_id = \(player) AND c.state IN \(uncountedStates))"
    }

    /// Counted players and their events.
    static let counts = """
        SELECT (SELECT COUNT(*) FROM players WHERE state NOT IN \(uncountedStates)) AS players,
               (SELECT COUNT(*) FROM ledger_events e WHERE \(counted("e.player_id"))) AS events
        """

    /// Credits and debits per (item, event kind), split by whether the player counts (`counted` 1 or 0):
    /// every line is checked for its direction, only counted ones add to the totals.
    static let flows = """
        SELECT l.item, e.kind, CASE WHEN p.state IN \(uncountedStates) THEN 0 ELSE 1 END AS counted,
               CAST(COALESCE(SUM(CASE WHEN l.delta > 0 THEN l.delta ELSE 0 END), 0) AS BIGINT) AS credits,
               CAST(COALESCE(SUM(CASE WHEN l.delta < 0 THEN -l.delta ELSE 0 END), 0) AS BIGINT) AS debits
        FROM ledger_lines l JOIN ledger_events e ON e.player_id = l.player_id AND e.seq = l.seq
        LEFT JOIN players p ON p.player_id = l.player_id
        GROUP BY l.item, e.kind, CASE WHEN p.state IN \(uncountedStates) THEN 0 ELSE 1 END
        """

    static let held = """
        SELECT b.item, CAST(SUM(b.quantity) AS BIGINT) AS held FROM ledger_balances b WHERE \(counted("b.player_id")) GROUP BY b.item
        """

    /// Frozen players (a transfer away from this store is under way) and their event counts. They are
    /// in the totals; the audit takes them out again if another store counts a newer copy.
    static let frozenPlayers = """
        SELECT p.player_id, p.epoch, COUNT(e.seq) AS events
        FROM players p LEFT JOIN ledger_events e ON e.player_id = p.player_id
        WHERE p.state = 'frozen'
        GROUP BY p.player_id, p.epoch
        """

    /// ``flows`` per frozen player.
    static let frozenFlows = """
        SELECT l.player_id, l.item, e.kind,
               CAST(COALESCE(SUM(CASE WHEN l.delta > 0 THEN l.delta ELSE 0 END), 0) AS BIGINT) AS credits,
               CAST(COALESCE(SUM(CASE WHEN l.delta < 0 THEN -l.delta ELSE 0 END), 0) AS BIGINT) AS debits
        FROM ledger_lines l JOIN ledger_events e ON e.player_id = l.player_id AND e.seq = l.seq
        JOIN players p ON p.player_id = l.player_id
        WHERE p.state = 'frozen'
        GROUP BY l.player_id, l.item, e.kind
        """

    /// The balances of frozen players.
    static let frozenHeld = """
        SELECT b.player_id, b.item, b.quantity FROM ledger_balances b JOIN players p ON p.player_id = b.player_id
        WHERE p.state = 'frozen'
        """

    static let balanceMismatches = """
        SELECT COALESCE(r.player_id, b.player_id) AS player_id, COALESCE(r.item, b.item) AS item,
               COALESCE(b.quantity, 0) AS cached, COALESCE(r.total, 0) AS recomputed
        FROM (SELECT player_id, item, CAST(SUM(delta) AS BIGINT) AS total FROM ledger_lines GROUP BY player_id, item) r
        FULL OUTER JOIN ledger_balances b ON b.player_id = r.player_id AND b.item = r.item
        WHERE COALESCE(b.quantity, 0) <> COALESCE(r.total, 0)
        ORDER BY 1, 2 LIMIT \(limit)
        """

    static let chainBreaks = """
        SELECT player_id, seq, item, balance_after, running FROM (
            SELECT player_id, seq, item, balance_after,
                   CAST(SUM(delta) OVER (PARTITION BY player_id, item ORDER BY seq ROWS UNBOUNDED PRECEDING) AS BIGINT) AS running
            FROM ledger_lines
        ) t WHERE running <> balance_after
        ORDER BY 1, 2, 3 LIMIT \(limit)
        """

    static let snapshotMismatches = """
        SELECT player_id, seq, item, quantity, recomputed FROM (
            SELECT s.player_id, s.seq, s.item, s.quantity,
                   CAST(COALESCE((SELECT SUM(l.delta) FROM ledger_lines l
                                  WHERE l.player_id = s.player_id AND l.item = s.item AND l.seq <= s.seq), 0) AS BIGINT) AS recomputed
            FROM ledger_snapshots s
        ) t WHERE quantity <> recomputed
        ORDER BY 1, 2, 3 LIMIT \(limit)
        """

    /// Players whose recorded sequence is not the count and maximum of their events (a gap or a duplicate).
    static let sequenceGaps = """
        SELECT p.player_id, p.ledger_seq, COUNT(e.seq) AS events, CAST(COALESCE(MAX(e.seq), 0) AS BIGINT) AS last
        FROM players p LEFT JOIN ledger_events e ON e.player_id = p.player_id
        GROUP BY p.player_id, p.ledger_seq
        HAVING COUNT(e.seq) <> p.ledger_seq OR COALESCE(MAX(e.seq), 0) <> p.ledger_seq
        ORDER BY 1 LIMIT \(limit)
        """

    static let eventsWithoutPlayer = """
        SELECT DISTINCT e.player_id FROM ledger_events e
        WHERE NOT EXISTS (SELECT 1 FROM players p WHERE p.player_id = e.player_id)
        ORDER BY 1 LIMIT \(limit)
        """

    /// Match rewards may have no lines: a match result without rewards still records its event.
    static let eventsWithoutLines = """
        SELECT e.player_id, e.seq FROM ledger_events e
        WHERE e.kind <> 'match_reward' AND NOT EXISTS (SELECT 1 FROM ledger_lines l WHERE l.player_id = e.player_id AND l.seq = e.seq)
        ORDER BY 1, 2 LIMIT \(limit)
        """

    static let linesWithoutEvent = """
        SELECT DISTINCT l.player_id, l.seq FROM ledger_lines l
        WHERE NOT EXISTS (SELECT 1 FROM ledger_events e WHERE e.player_id = l.player_id AND e.seq = l.seq)
        ORDER BY 1, 2 LIMIT \(limit)
        """

    static let outbox = """
        SELECT o.trade_id, o.giver, o.receiver, o.destination_region, o.status, o.created_at, o.settled_at, i.item, i.quantity
        FROM trade_outbox o JOIN trade_outbox_items i ON i.trade_id = o.trade_id
        ORDER BY o.trade_id, i.item
        """

    static let inbox = """
        SELECT trade_id, receiver, decision, reason, recorded_at FROM trade_inbox ORDER BY trade_id
        """

    static let tradeLegs = """
        SELECT e.trade_id, e.kind, e.player_id, l.item, l.delta
        FROM ledger_events e JOIN ledger_lines l ON l.player_id = e.player_id AND l.seq = e.seq
        WHERE e.trade_id IS NOT NULL AND \(counted("e.player_id"))
        ORDER BY e.trade_id, e.kind, l.item
        """
}
