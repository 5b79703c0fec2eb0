// MeridianStorage — region-pinned player data and the inventory ledger.
//
// One protocol, ``RegionStore``, two backends: ``SQLiteRegionStore`` (embedded default, one file per
// node) and ``PostgresRegionStore`` (one database per region). ``makeRegionStore(url:node:logger:)``
// opens either from a topology's `storage:` string and migrates the schema (versioned migrations
// recorded in `schema_migrations`; re-running them is a no-op).
//
// Design decisions worth knowing before changing this module:
//
// - Pure core, thin shells. Every ledger decision (fencing, idempotency, expected sequence,
//   balances, trade state) is made by `LedgerPlanner` over state loaded inside the transaction;
//   the backends only load rows (`LedgerTransaction`) and write the planner's `LedgerWritePlan`.
//   Both backends therefore cannot disagree on a rule.
//
// - Fencing. Every write reads the player's row inside its transaction and refuses it unless the
//   player is active and, for writes from the player's actor, the epoch is the current one
//   (`PlayerFence`). Profile writes lock the row (PostgreSQL `FOR UPDATE`); ledger batches on
//   PostgreSQL read without locking and make their write conditional on the player's sequence,
//   epoch and state being unchanged (a compare-and-set; on conflict the batch is re-run with the
//   rows locked), so a freeze or epoch change committed meanwhile cannot be missed. Trade deliveries
//   and refunds are system writes: no epoch, but still refused while frozen or tombstoned.
//
// - Ledger. `ledger_events` (one row per event, unique per player by sequence and by idempotency
//   key) and `ledger_lines` (one row per item touched, with the signed delta and the balance right
//   after it) are append-only. A replayed key returns the original receipt, rebuilt from those
//   rows, and appends a row to `ledger_replays`; a key reused for a different request is refused.
//
// - Balances. Reads use `ledger_balances`, a derived cache written in the same transaction as the
//   events: one indexed read, and it can never lag the events because it commits with them.
//   Every `snapshotInterval` events a player's balances are also copied to `ledger_snapshots`;
//   `recomputedBalances(of:)` rebuilds balances as latest snapshot + events after it (bounded
//   cost, used to verify the cache, and what an archival or a transfer copy would start from).
//   The audit recomputes from the events themselves and checks cache, balance-after chain and
//   snapshots against them.
//
// - Trades cannot half-happen. `tradeOut` debits the giver and writes the outbox row in one
//   transaction (the escrow is the outbox row). The receiver's store records exactly one decision
//   per trade in `trade_inbox`: `delivered` (with the trade-in event, same transaction) or
//   `rejected`. The giver's store then marks the row delivered, or refunds the giver (refund event
//   and status change in one transaction). `TradeCoordinator` derives the next step from the two
//   stores only, so it can be re-run after a crash at any point, or run twice at once.
//
// - Match results. `LedgerCommand.matchResult` applies one player's match in one ledger batch: the
//   history row, the XP (and level), the skill rating and a `match_reward` event keyed
//   `match:<match id>` crediting the rewards. The event is the exactly-once guard (a retry replays
//   it); it is written also without rewards, with no lines, so every applied match has a sequence.
//   `recordMatch` is that command without rewards or rating. On PostgreSQL XP and rating are set by
//   the same compare-and-set update as the player's sequence, which every XP change goes through.
//
// - Group commit. `LedgerWriter` batches commands from many players into one transaction per
//   batch. On PostgreSQL a batch is four round trips whatever its size — BEGIN, one read of
//   players + balances + recorded keys, one write of all rows (prepared statements, data-modifying
//   CTEs over `unnest`ed arrays), COMMIT — so throughput is not one round trip per event.
//
// - Audit. `LedgerAudit` checks, per item kind over all regions,
//   created (grants + purchases + match rewards) == held + consumed + in transit (outbox rows without a delivered
//   decision and not refunded), plus cache/chain/snapshot/sequence/trade-leg consistency.
