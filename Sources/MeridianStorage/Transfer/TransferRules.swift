import Foundation

/// When the source may hand a player out: ``RegionStore/exportPlayer(_:)``. Pure.
enum TransferExportRule {
    static func check(_ profile: PlayerProfile, pendingTradesOut: Int64) throws(StorageError) {
        guard profile.state == .frozen else {
            throw .invalid("player \(profile.id) is \(profile.state.rawValue) in this store; freeze them before exporting (the transfer saga freezes first)")
        }
        // Escrowed items come back by a refund booked in the giver's store; once the player moved,
        // no store could book it.
        guard pendingTradesOut == 0 else {
            throw .invalid("player \(profile.id) has \(pendingTradesOut) trades in escrow in this store; unfreeze them, let the trades settle, and transfer again")
        }
    }
}

/// Decides what ``RegionStore/importPlayer(_:epoch:)`` does with what the destination holds, and
/// turns an export into the rows both backends write. Pure.
enum PlayerImport {
    enum Decision: Hashable, Sendable {
        /// The player is not in this store: write the copy.
        case insert
        /// Delete the player's rows here (a tombstoned copy of a player who comes back, or an
        /// incoming copy of an earlier attempt), then write the copy.
        case replace
        /// This exact copy is here already (a retried import): write nothing.
        case unchanged
    }

    /// `existing` is the player's row here; `storedCopy` what this store holds of an `incoming` player.
    static func decide(
        _ export: PlayerExport, epoch: Epoch, existing: PlayerProfile?, storedCopy: PlayerExport?
    ) throws(StorageError) -> Decision {
        let id = export.player
        guard export.profile.state == .frozen else {
            throw .invalid("the export of player \(id) was taken while they were \(export.profile.state.rawValue); export from a frozen source")
        }
        guard epoch > export.profile.epoch else {
            throw .invalid("player \(id) is at epoch \(export.profile.epoch) in the source; the import needs the epoch after the move (\(export.profile.epoch.next)), got \(epoch)")
        }
        try export.validate()
        guard let existing else { return .insert }
        switch existing.state {
        case .active, .frozen:
            throw .invalid("player \(id) lives in this store (\(existing.state.rawValue), epoch \(existing.epoch)); a transfer cannot overwrite a live copy")
        case .tombstoned:
            // They lived here before and moved away: the export carries that history and everything since.
            guard epoch > existing.epoch else {
                throw .invalid("player \(id) left this store at epoch \(existing.epoch); coming back needs a higher epoch than that, got \(epoch)")
            }
            return .replace
        case .incoming:
            guard epoch >= existing.epoch else {
                throw .invalid("player \(id) is being imported here at epoch \(existing.epoch); an import at \(epoch) is older")
            }
            if epoch == existing.epoch, let storedCopy, storedCopy.isSameCopy(as: export) { return .unchanged }
            // An incoming copy takes no writes, so an earlier attempt's copy can be replaced safely.
            return .replace
        }
    }
}

/// An export as the rows of the ledger and history tables (the player row aside).
struct PlayerCopyRows: Sendable {
    var matches: [LedgerWritePlan.Match] = []
    var events: [LedgerWritePlan.Event] = []
    var lines: [LedgerWritePlan.Line] = []
    /// `as_of_seq` is the last event that touched the item, as the ledger writes it.
    var balances: [LedgerWritePlan.Balance] = []
    var snapshots: [LedgerWritePlan.SnapshotLine] = []
    /// In the source's order, so that the destination's row ids keep it.
    var replays: [LedgerWritePlan.Replay] = []

    init(_ export: PlayerExport) {
        let id = export.player
        matches = export.matches.map { record in
            .init(player: id, matchID: record.matchID, finishedAt: record.finishedAt, outcome: record.outcome, xpAwarded: record.xpAwarded, summary: record.summary)
        }
        var lastTouch: [ItemKind: Int64] = [:]
        for event in export.events {
            events.append(.init(
                player: id, sequence: event.sequence, kind: event.kind, idempotencyKey: event.idempotencyKey, epoch: event.epoch,
                tradeID: event.tradeID, reason: event.reason, recordedAt: event.recordedAt
            ))
            for (item, delta) in event.deltas.sorted(by: { $0.key < $1.key }) {
                lines.append(.init(player: id, sequence: event.sequence, item: item, delta: delta, balanceAfter: event.balancesAfter[item] ?? 0))
                lastTouch[item] = event.sequence
            }
        }
        balances = export.balances.sorted { $0.key < $1.key }.map { item, quantity in
            .init(player: id, item: item, quantity: quantity, asOfSequence: lastTouch[item] ?? 0)
        }
        for snapshot in export.snapshots {
            for (item, quantity) in snapshot.balances.sorted(by: { $0.key < $1.key }) {
                snapshots.append(.init(player: id, sequence: snapshot.sequence, item: item, quantity: quantity))
            }
        }
        replays = export.replays.map { .init(player: id, idempotencyKey: $0.idempotencyKey, sequence: $0.sequence, replayedAt: $0.replayedAt) }
    }
}
