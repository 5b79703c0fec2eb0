/// The storage of one region (PostgreSQL) or one node (SQLite): region-pinned player data and the
/// inventory ledger. Two backends implement it — ``SQLiteRegionStore`` and ``PostgresRegionStore`` —
/// and one test suite runs against both.
///
/// Every write that touches a player checks, inside its transaction, that the player is
/// ``PlayerState/active`` (not frozen, incoming or tombstoned) and, for writes from the player's
/// actor, that the presented epoch is the current one. Every multi-statement write is one
/// transaction. Errors are ``StorageError``s.
public protocol RegionStore: Sendable {
    /// Where the store lives, safe to log (passwords redacted).
    var location: String { get }

    // MARK: Players

    /// Creates a player; if the id already exists, returns the stored profile unchanged (retry-safe).
    func createPlayer(_ player: NewPlayer) async throws(StorageError) -> PlayerProfile

    /// The player's profile and progression, or nil if the player does not live in this store.
    func player(_ id: PlayerID) async throws(StorageError) -> PlayerProfile?

    /// Changes the display name.
    func renamePlayer(_ id: PlayerID, epoch: Epoch, displayName: String) async throws(StorageError) -> PlayerProfile

    /// Records a match result and adds its XP, once per match id: a repeated call changes nothing and
    /// returns `recorded == false`. The same as applying ``LedgerCommand/matchResult(_:)`` without
    /// rewards and with the rating unchanged (so it also writes the match's item-less
    /// ``LedgerEventKind/matchReward`` event); use that to award items or set the rating too.
    func recordMatch(_ record: MatchRecord, epoch: Epoch) async throws(StorageError) -> MatchRecordResult

    /// The player's most recent matches, newest first.
    func matchHistory(of player: PlayerID, limit: Int) async throws(StorageError) -> [MatchRecord]

    // MARK: Fencing (used by cross-region transfer)

    /// Stops every write to the player until ``unfreeze(_:)`` or ``tombstone(_:)``. Idempotent.
    func freeze(_ id: PlayerID) async throws(StorageError) -> PlayerProfile

    /// Accepts writes again (a transfer rolled back). Idempotent; refused for a tombstoned player.
    func unfreeze(_ id: PlayerID) async throws(StorageError) -> PlayerProfile

    /// Marks the player as moved away for good; every later write is refused. Idempotent.
    func tombstone(_ id: PlayerID) async throws(StorageError) -> PlayerProfile

    /// Moves the player to `epoch` (which must not be lower than the current one; equal is a no-op).
    func setEpoch(_ id: PlayerID, to epoch: Epoch) async throws(StorageError) -> PlayerProfile

    /// Makes `node` the player's only writer: takes the next ``Activation`` (recording the node,
    /// for operators) and returns it with the profile as of the claim. Every write presenting an
    /// earlier activation is refused from then on (``StorageError/Code/activationLost(current:)``).
    /// Allowed whatever the player's state (a frozen or tombstoned player's writes stay refused).
    func claimActivation(of id: PlayerID, node: String) async throws(StorageError) -> ActivationClaim

    // MARK: Transfer (the source exports, the destination imports, activates or discards)

    /// Everything of the player a new home needs (``PlayerExport``), read in one consistent snapshot.
    /// Writes nothing.
    ///
    /// Refused with ``StorageError/Code/invalidArgument`` unless the player is ``PlayerState/frozen``
    /// here (so nothing changes under the copy), and while the player has trades in escrow in this
    /// store (pending outbox rows as the giver: a refund could only be booked here); roll back,
    /// let the trades settle and retry. ``StorageError/Code/playerNotFound`` if the player is not here.
    func exportPlayer(_ id: PlayerID) async throws(StorageError) -> PlayerExport

    /// Writes `export` into this (the destination's) store, in one transaction, as an
    /// ``PlayerState/incoming`` copy at `epoch` (the epoch after the move: the source's + 1; it must
    /// be higher than the export's), and returns the stored profile. The copy has the source's ledger
    /// row for row — sequences, idempotency keys, event epochs, balance-afters, snapshots, replays —
    /// its match history and balances; it refuses every write until ``activateIncoming(_:epoch:)``.
    ///
    /// Idempotent: if this store holds the same copy already (same data, same epoch) nothing is
    /// written. An incoming copy with other data (an earlier attempt) is replaced, as is a
    /// ``PlayerState/tombstoned`` copy (the player lived here before and comes back; `epoch` must be
    /// higher than its epoch). Refused with ``StorageError/Code/invalidArgument`` when the player is
    /// ``PlayerState/active`` or ``PlayerState/frozen`` here, when the export was not taken from a
    /// frozen player, or when it is inconsistent (gaps, balance-afters that do not add up).
    func importPlayer(_ export: PlayerExport, epoch: Epoch) async throws(StorageError) -> PlayerProfile

    /// Makes an incoming copy take writes: `incoming → active`. `epoch` must be the one the import was
    /// given (else ``StorageError/Code/staleEpoch(current:)``). Idempotent: an active player at `epoch`
    /// is returned unchanged. ``StorageError/Code/playerNotFound`` if absent;
    /// ``StorageError/Code/tombstoned`` if tombstoned; ``StorageError/Code/invalidArgument`` if frozen.
    func activateIncoming(_ id: PlayerID, epoch: Epoch) async throws(StorageError) -> PlayerProfile

    /// Deletes an incoming copy and all its rows (the transfer rolled back). No-op if the player is not
    /// here; ``StorageError/Code/invalidArgument`` if the player is here but not incoming.
    func discardIncoming(_ id: PlayerID) async throws(StorageError)

    // MARK: Ledger

    /// Applies `commands` in order in ONE transaction and returns one result per command. A refused
    /// command (stale epoch, insufficient balance, …) writes nothing and does not affect the others;
    /// the call throws only when the transaction itself failed, and then nothing was written.
    func applyLedger(_ commands: [LedgerCommand]) async throws(StorageError) -> [Result<LedgerReceipt, StorageError>]

    /// The player's balances from the derived balance table (updated in the same transaction as the
    /// events, so never behind them). Items with a zero balance may be omitted.
    func balances(of player: PlayerID) async throws(StorageError) -> ItemQuantities

    /// The player's balances recomputed from the ledger: the latest snapshot plus the events after it.
    func recomputedBalances(of player: PlayerID) async throws(StorageError) -> ItemQuantities

    /// The player's events with a sequence number greater than `sequence`, oldest first.
    func ledgerEvents(of player: PlayerID, after sequence: Int64, limit: Int) async throws(StorageError) -> [LedgerEvent]

    /// Recorded replays of the player's idempotency keys, oldest first.
    func ledgerReplays(of player: PlayerID) async throws(StorageError) -> [LedgerReplay]

    // MARK: Trades

    /// Outbox rows still pending, oldest first.
    func pendingTrades(limit: Int) async throws(StorageError) -> [TradeOutboxEntry]

    /// One outbox row of this (the giver's) store.
    func tradeOutboxEntry(_ id: TradeID) async throws(StorageError) -> TradeOutboxEntry?

    /// Marks a pending outbox row delivered (idempotent); refused with ``StorageError/Code/tradeSettled`` if refunded.
    func markTradeDelivered(_ id: TradeID) async throws(StorageError) -> TradeOutboxEntry

    /// The receiver-side decision on a trade, if this store recorded one.
    func tradeInboxRecord(_ id: TradeID) async throws(StorageError) -> TradeInboxRecord?

    /// Records that the receiver cannot take the trade, unless a decision exists already; returns the
    /// decision in force (which may be ``TradeDecision/delivered`` if the trade-in won the race).
    /// Refused with ``StorageError/Code/invalidArgument`` while the receiver is active here.
    func rejectTrade(_ id: TradeID, receiver: PlayerID, reason: String) async throws(StorageError) -> TradeInboxRecord

    // MARK: Audit and lifecycle

    /// Aggregates of this store's ledger for ``LedgerAudit``, read in one consistent snapshot.
    func ledgerAuditData() async throws(StorageError) -> LedgerAuditData

    /// Closes connections. Calls after it fail with ``StorageError/Code/unavailable``.
    func close() async
}

extension RegionStore {
    /// Appends one grant, consume or purchase in its own transaction.
    public func append(_ append: LedgerAppend) async throws(StorageError) -> LedgerReceipt {
        try await single(.append(append))
    }

    /// The giver's leg of a trade: debits the items into escrow and writes the outbox row, atomically.
    public func tradeOut(_ request: TradeOutRequest) async throws(StorageError) -> LedgerReceipt {
        try await single(.tradeOut(request))
    }

    /// The receiver's leg of a trade; a second delivery of the same trade is a replay.
    public func tradeIn(_ delivery: TradeDelivery) async throws(StorageError) -> LedgerReceipt {
        try await single(.tradeIn(delivery))
    }

    /// Returns a trade's escrowed items to its giver and marks the outbox row refunded, atomically.
    public func refundTrade(_ id: TradeID) async throws(StorageError) -> LedgerReceipt {
        try await single(.tradeRefund(id))
    }

    /// Applies one match result (history, XP, rating and reward event) in its own transaction; see
    /// ``MatchResultApplication``. With many players' results, submit `.matchResult` commands to a ``LedgerWriter``.
    public func applyMatchResult(_ application: MatchResultApplication) async throws(StorageError) -> LedgerReceipt {
        try await single(.matchResult(application))
    }

    private func single(_ command: LedgerCommand) async throws(StorageError) -> LedgerReceipt {
        let results = try await applyLedger([command])
        guard let result = results.first else {
            throw StorageError(.backend, "the store returned no result for a ledger command")
        }
        return try result.get()
    }
}
