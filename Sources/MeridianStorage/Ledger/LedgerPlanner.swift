import Foundation

/// Decides a ledger batch: takes the state loaded under the players' row locks, applies the commands
/// in order and produces one result per command plus the rows to write. No I/O; both backends share it.
///
/// The order of checks for each command is: the request is well-formed → the player exists here →
/// fence (state, epoch) → idempotency (a known key returns the original receipt) → trade status →
/// expected sequence → balances. A refused command changes nothing, so later commands of the same
/// player see the state as if it had never been sent.
///
/// A match result is a posting (its reward event) whose side effects are the history row, the XP and
/// the rating; a match already in the history is a replay.
struct LedgerPlanner {
    private(set) var state: LedgerBatchState
    private(set) var plan = LedgerWritePlan()
    let now: Date
    /// Every `snapshotInterval`-th event of a player also records a snapshot of all its balances.
    let snapshotInterval: Int64
    private var balanceIndex: [BalanceKey: Int] = [:]

    private struct BalanceKey: Hashable {
        var player: PlayerID
        var item: ItemKind
    }

    init(state: LedgerBatchState, now: Date, snapshotInterval: Int64) {
        self.state = state
        self.now = now
        self.snapshotInterval = max(1, snapshotInterval)
    }

    /// Applies one command to the plan and returns its result.
    mutating func apply(_ command: LedgerCommand) -> Result<LedgerReceipt, StorageError> {
        do throws(StorageError) {
            return .success(try decide(command))
        } catch {
            return .failure(error)
        }
    }

    private mutating func decide(_ command: LedgerCommand) throws(StorageError) -> LedgerReceipt {
        switch command {
        case .append(let append):
            return try post(LedgerPosting(append))
        case .tradeOut(let request):
            let posting = try LedgerPosting(request)
            return try post(posting) { (planner: inout LedgerPlanner) throws(StorageError) in
                if let existing = planner.state.outbox[request.tradeID] {
                    throw StorageError(.idempotencyConflict, "trade \(existing.tradeID) already exists with other parties; choose a new trade id")
                }
                let entry = TradeOutboxEntry(
                    tradeID: request.tradeID, giver: request.giver, receiver: request.receiver,
                    destinationRegion: request.destinationRegion, items: request.items, status: .pending,
                    createdAt: planner.now, settledAt: nil
                )
                planner.state.outbox[request.tradeID] = entry
                planner.plan.outbox.append(entry)
            }
        case .tradeIn(let delivery):
            let posting = try LedgerPosting(delivery)
            return try post(posting) { (planner: inout LedgerPlanner) throws(StorageError) in
                if let decision = planner.state.inbox[delivery.tradeID] {
                    throw StorageError(.tradeSettled, "trade \(delivery.tradeID) was already \(decision.decision.rawValue) by this store; refund its giver instead")
                }
                let record = TradeInboxRecord(tradeID: delivery.tradeID, receiver: delivery.receiver, decision: .delivered, reason: "", recordedAt: planner.now)
                planner.state.inbox[delivery.tradeID] = record
                planner.plan.inbox.append(record)
            }
        case .tradeRefund(let tradeID):
            guard let entry = state.outbox[tradeID] else {
                throw StorageError(.tradeNotFound, "trade \(tradeID) has no outbox row in this store; refund it in the giver's home region")
            }
            return try post(LedgerPosting(refundOf: entry)) { (planner: inout LedgerPlanner) throws(StorageError) in
                let status = planner.state.outbox[tradeID]?.status ?? entry.status
                guard status == .pending else {
                    throw StorageError(.tradeSettled, "trade \(tradeID) was already \(status.rawValue); nothing to refund")
                }
                planner.state.outbox[tradeID]?.status = .refunded
                if let index = planner.plan.outbox.firstIndex(where: { $0.tradeID == tradeID }) {
                    // Traded out in this same batch: write the row refunded rather than update a row not yet written.
                    planner.plan.outbox[index].status = .refunded
                    planner.plan.outbox[index].settledAt = planner.now
                } else {
                    planner.plan.settlements.append(.init(tradeID: tradeID, status: .refunded, settledAt: planner.now))
                }
            }
        case .matchResult(let application):
            return try applyMatch(application)
        }
    }

    /// A match result: its reward event (which carries the exactly-once check) and, as the event's side
    /// effects, the history row, the XP and the rating.
    private mutating func applyMatch(_ application: MatchResultApplication) throws(StorageError) -> LedgerReceipt {
        let posting = try LedgerPosting(application)
        let record = application.record
        let match = MatchKey(player: record.player, match: record.matchID)
        if state.postings[PostingKey(player: record.player, key: posting.idempotencyKey)] == nil, state.recordedMatches.contains(match) {
            // Recorded before match results were ledger events (schema version 1): already applied, but
            // there is no event to answer with.
            guard let player = state.players[record.player] else { throw .playerNotFound(record.player) }
            try PlayerFence.check(
                record.player, state: player.state, current: player.epoch, presented: application.epoch,
                activation: player.activation, presentedActivation: application.activation
            )
            plan.replays.append(.init(player: record.player, idempotencyKey: posting.idempotencyKey, sequence: 0, replayedAt: now))
            return LedgerReceipt(player: record.player, sequence: 0, kind: .matchReward, balancesAfter: [:], replayed: true)
        }
        return try post(posting) { (planner: inout LedgerPlanner) throws(StorageError) in
            guard let player = planner.state.players[record.player] else { throw .playerNotFound(record.player) }
            let (xp, overflow) = player.xp.addingReportingOverflow(record.xpAwarded)
            guard !overflow else { throw .invalid("player \(record.player)'s XP would overflow") }
            planner.state.players[record.player]?.xp = xp
            planner.state.recordedMatches.insert(match)
            let skill = application.skillAfter ?? planner.plan.progress[record.player]?.skill
            planner.plan.progress[record.player] = .init(xp: xp, level: ProgressionCurve.level(forXP: xp), skill: skill)
            planner.plan.matches.append(.init(
                player: record.player, matchID: record.matchID, finishedAt: record.finishedAt, outcome: record.outcome,
                xpAwarded: record.xpAwarded, summary: record.summary
            ))
        }
    }

    /// Checks and records one posting. `sideEffects` runs after the idempotency check (replays skip
    /// it) and may refuse the posting by throwing before anything is recorded.
    private mutating func post(
        _ posting: LedgerPosting,
        sideEffects: (inout LedgerPlanner) throws(StorageError) -> Void = { _ in }
    ) throws(StorageError) -> LedgerReceipt {
        guard let player = state.players[posting.player] else { throw .playerNotFound(posting.player) }
        let (presented, presentedActivation): (Epoch?, Activation?) = switch posting.fence {
        case .epoch(let epoch, let activation): (epoch, activation)
        case .system: (nil, nil)
        }
        try PlayerFence.check(
            posting.player, state: player.state, current: player.epoch, presented: presented,
            activation: player.activation, presentedActivation: presentedActivation
        )

        let key = PostingKey(player: posting.player, key: posting.idempotencyKey)
        if let stored = state.postings[key] {
            guard posting.matches(stored) else {
                throw StorageError(.idempotencyConflict, "idempotency key \"\(posting.idempotencyKey)\" of player \(posting.player) was used for a different request; use a new key")
            }
            plan.replays.append(.init(player: posting.player, idempotencyKey: posting.idempotencyKey, sequence: stored.sequence, replayedAt: now))
            return LedgerReceipt(player: posting.player, sequence: stored.sequence, kind: stored.kind, balancesAfter: stored.balancesAfter, replayed: true)
        }

        let sequence = player.sequence + 1
        if let expected = posting.expectedSequence, expected != sequence {
            throw StorageError(
                .sequenceConflict(expected: expected, actual: sequence),
                "player \(posting.player)'s next ledger sequence is \(sequence), not \(expected); re-read and retry"
            )
        }

        var balances = state.balances[posting.player] ?? [:]
        var after: ItemQuantities = [:]
        for (item, delta) in posting.deltas {
            let current = balances[item] ?? 0
            let (next, overflow) = current.addingReportingOverflow(delta)
            if overflow { throw .invalid("the balance of \(item) would overflow") }
            if next < 0 {
                throw StorageError(
                    .insufficientBalance(item: item, available: current, requested: -delta),
                    "player \(posting.player) holds \(current) \(item), the request needs \(-delta)"
                )
            }
            after[item] = next
        }

        // Checks that depend on trade state run last: they may record rows, so nothing may refuse after them.
        try sideEffects(&self)

        for (item, quantity) in after { balances[item] = quantity }
        state.balances[posting.player] = balances
        // Only the sequence: side effects may have changed other fields of the row (XP).
        state.players[posting.player]?.sequence = sequence
        plan.playerSequences[posting.player] = sequence

        plan.events.append(.init(
            player: posting.player, sequence: sequence, kind: posting.kind, idempotencyKey: posting.idempotencyKey,
            epoch: player.epoch, tradeID: posting.tradeID, reason: posting.reason, recordedAt: now
        ))
        for (item, delta) in posting.deltas.sorted(by: { $0.key < $1.key }) {
            let quantity = after[item] ?? 0
            plan.lines.append(.init(player: posting.player, sequence: sequence, item: item, delta: delta, balanceAfter: quantity))
            setBalance(.init(player: posting.player, item: item, quantity: quantity, asOfSequence: sequence))
        }
        if sequence % snapshotInterval == 0 {
            for (item, quantity) in balances.sorted(by: { $0.key < $1.key }) {
                plan.snapshots.append(.init(player: posting.player, sequence: sequence, item: item, quantity: quantity))
            }
        }
        state.postings[key] = StoredPosting(sequence: sequence, kind: posting.kind, tradeID: posting.tradeID, deltas: posting.deltas, balancesAfter: after)
        return LedgerReceipt(player: posting.player, sequence: sequence, kind: posting.kind, balancesAfter: after, replayed: false)
    }

    private mutating func setBalance(_ balance: LedgerWritePlan.Balance) {
        let key = BalanceKey(player: balance.player, item: balance.item)
        if let index = balanceIndex[key] {
            plan.balances[index] = balance
        } else {
            balanceIndex[key] = plan.balances.count
            plan.balances.append(balance)
        }
    }
}
