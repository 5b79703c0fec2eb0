import Foundation

// Storage side of a cross-region transfer (moving a player's home region).
//
// The saga at the identity authority drives both stores:
//   source `freeze` → source `exportPlayer` → destination `importPlayer(epoch: source epoch + 1)`
//   → directory flip → destination `activateIncoming` → source `tombstone`;
// before the flip it rolls back with destination `discardIncoming` → source `unfreeze`.
//
// The destination's copy is the source's data row for row: the same ledger sequence numbers and
// idempotency keys (a retried request is still a replay in the new home), balance-afters, snapshots,
// replays and match history. Only the player row differs: the state (`incoming`, then `active`) and
// the epoch the import was given. Events keep the epoch they were written at.
//
// The audit counts a player once at every step: `incoming` and `tombstoned` copies are left out of
// the totals, and while both a frozen source and an activated destination are live, the copy with
// the higher epoch counts (see `TransferCopies`).

/// Everything of one player that a new home region needs, read by ``RegionStore/exportPlayer(_:)``
/// in one consistent snapshot of the (frozen) source and written by
/// ``RegionStore/importPlayer(_:epoch:)`` into the destination.
public struct PlayerExport: Sendable, Hashable {
    /// The player's balances right after one ledger event, as the ledger's snapshot table records them.
    public struct Snapshot: Sendable, Hashable {
        /// The sequence of the event the snapshot was taken after.
        public var sequence: Int64
        /// Every item the player held up to then, zero balances included.
        public var balances: ItemQuantities

        public init(sequence: Int64, balances: ItemQuantities) {
            self.sequence = sequence
            self.balances = balances
        }
    }

    /// The profile in the source: display name, home region, creation time, epoch, state (`frozen`),
    /// progression, ledger sequence and skill rating.
    public var profile: PlayerProfile
    /// The whole match history, oldest first.
    public var matches: [MatchRecord]
    /// Every ledger event, by sequence (1, 2, …, ``PlayerProfile/ledgerSequence``).
    public var events: [LedgerEvent]
    /// Every recorded replay, oldest first.
    public var replays: [LedgerReplay]
    /// The balance table: every item the player ever held, zero balances included.
    public var balances: ItemQuantities
    /// The ledger's snapshots, by sequence.
    public var snapshots: [Snapshot]

    public init(
        profile: PlayerProfile, matches: [MatchRecord], events: [LedgerEvent], replays: [LedgerReplay],
        balances: ItemQuantities, snapshots: [Snapshot]
    ) {
        self.profile = profile
        self.matches = matches
        self.events = events
        self.replays = replays
        self.balances = balances
        self.snapshots = snapshots
    }

    /// The player's id.
    public var player: PlayerID { profile.id }

    /// The profile the destination stores for this export: the same, `incoming` at `epoch`.
    func incomingProfile(epoch: Epoch) -> PlayerProfile {
        var profile = self.profile
        profile.state = .incoming
        profile.epoch = epoch
        return profile
    }
}

extension PlayerExport {
    /// Refuses an export that is not one player's gapless, self-consistent ledger: events numbered
    /// 1…n with n the profile's sequence, each balance-after the running sum of the deltas, snapshots
    /// and balances equal to that sum. The import writes nothing it would not accept from the ledger
    /// itself, so a damaged source cannot spread its damage. Pure.
    func validate() throws(StorageError) {
        let id = player
        func refuse(_ problem: String) -> StorageError {
            .invalid("the export of player \(id) is inconsistent (\(problem)); run `meridian ledger audit` on the source store")
        }
        try Validation.displayName(profile.displayName)
        guard !profile.homeRegion.isEmpty else { throw refuse("no home region") }
        guard profile.epoch.rawValue >= 1 else { throw refuse("epoch \(profile.epoch)") }
        guard profile.progression.xp >= 0 else { throw refuse("negative XP") }
        guard profile.ledgerSequence == Int64(events.count) else {
            throw refuse("the profile records ledger sequence \(profile.ledgerSequence) but there are \(events.count) events")
        }
        guard matches.allSatisfy({ $0.player == id }), replays.allSatisfy({ $0.player == id }), events.allSatisfy({ $0.player == id }) else {
            throw refuse("rows of another player")
        }
        guard Set(matches.map(\.matchID)).count == matches.count else { throw refuse("a match recorded twice") }
        guard Set(events.map(\.idempotencyKey)).count == events.count else { throw refuse("an idempotency key used twice") }
        // Replays of matches recorded before match results were events (schema version 1) point at sequence 0.
        guard replays.allSatisfy({ (0...profile.ledgerSequence).contains($0.sequence) }) else { throw refuse("a replay of an unknown event") }

        var running: ItemQuantities = [:]
        var snapshots = self.snapshots.makeIterator()
        var nextSnapshot = snapshots.next()
        var previousSnapshot: Int64 = 0
        for (offset, event) in events.enumerated() {
            guard event.sequence == Int64(offset + 1) else { throw refuse("event \(offset + 1) has sequence \(event.sequence)") }
            guard event.epoch.rawValue >= 1, event.epoch <= profile.epoch else { throw refuse("event \(event.sequence) has epoch \(event.epoch)") }
            guard Set(event.deltas.keys) == Set(event.balancesAfter.keys) else { throw refuse("event \(event.sequence) has a line without its balance") }
            for (item, delta) in event.deltas {
                let (next, overflow) = running[item, default: 0].addingReportingOverflow(delta)
                guard !overflow, next >= 0, event.balancesAfter[item] == next else {
                    throw refuse("event \(event.sequence) records \(event.balancesAfter[item] ?? 0) \(item) after it, the deltas sum to \(next)")
                }
                running[item] = next
            }
            while let snapshot = nextSnapshot, snapshot.sequence == event.sequence {
                guard snapshot.sequence > previousSnapshot, snapshot.balances == running else {
                    throw refuse("the snapshot at \(snapshot.sequence) differs from the events")
                }
                previousSnapshot = snapshot.sequence
                nextSnapshot = snapshots.next()
            }
        }
        if let stray = nextSnapshot { throw refuse("a snapshot at \(stray.sequence) is out of order or after the last event") }
        guard balances == running else { throw refuse("the balances differ from the sum of the events") }
    }

    /// Whether `other` holds the same data, ignoring the profile's state and epoch (a stored copy is
    /// `incoming` at its new epoch) and comparing times at the microsecond both backends store.
    func isSameCopy(as other: PlayerExport) -> Bool {
        var mine = self.normalized
        var theirs = other.normalized
        mine.profile.state = .incoming
        theirs.profile.state = .incoming
        mine.profile.epoch = .initial
        theirs.profile.epoch = .initial
        return mine == theirs
    }

    /// Times rounded to whole microseconds; match history in one order (stores read it sorted by time).
    private var normalized: PlayerExport {
        func micros(_ date: Date) -> Date {
            Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1_000_000).rounded() / 1_000_000)
        }
        var copy = self
        copy.profile.createdAt = micros(profile.createdAt)
        copy.matches = matches.map { record in
            var record = record
            record.finishedAt = micros(record.finishedAt)
            return record
        }.sorted { ($0.finishedAt, $0.matchID.uuidString) < ($1.finishedAt, $1.matchID.uuidString) }
        copy.events = events.map { event in
            var event = event
            event.recordedAt = micros(event.recordedAt)
            return event
        }
        copy.replays = replays.map { replay in
            var replay = replay
            replay.replayedAt = micros(replay.replayedAt)
            return replay
        }
        return copy
    }
}

extension PlayerExport {
    /// Folds snapshot rows (ordered by sequence) into snapshots.
    static func snapshots(_ rows: [(sequence: Int64, item: ItemKind, quantity: Int64)]) -> [Snapshot] {
        var result: [Snapshot] = []
        for row in rows {
            if result.last?.sequence == row.sequence {
                result[result.count - 1].balances[row.item] = row.quantity
            } else {
                result.append(Snapshot(sequence: row.sequence, balances: [row.item: row.quantity]))
            }
        }
        return result
    }
}
