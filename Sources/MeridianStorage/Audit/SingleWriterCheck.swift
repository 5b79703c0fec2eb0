import Foundation

/// Checks, from what the stores recorded, that a player never had two writers: after every
/// transfer and failover has settled, exactly one store holds the player `active`, and every other
/// copy (a tombstone left by a transfer away, a node's file it once lived in) holds a prefix of the
/// live copy's ledger — the same events at the same sequences and epochs. A copy with an event the
/// live copy lacks or records differently accepted a write while another copy was the player's
/// home: two regions, or two nodes, wrote for the player. Pure.
public enum SingleWriterCheck {
    /// One store's copy of a player.
    public struct Copy: Sendable {
        public var location: String
        public var state: PlayerState
        public var epoch: Epoch
        /// Every event, by sequence.
        public var events: [LedgerEvent]

        public init(location: String, state: PlayerState, epoch: Epoch, events: [LedgerEvent]) {
            self.location = location
            self.state = state
            self.epoch = epoch
            self.events = events
        }
    }

    /// Every counterexample for `player`'s copies (empty: one writer).
    public static func check(player: PlayerID, copies: [Copy]) -> [String] {
        let live = copies.filter { $0.state == .active }
        guard live.count == 1, let home = live.first else {
            let states = copies.map { "\($0.location): \($0.state.rawValue) at epoch \($0.epoch)" }.joined(separator: "; ")
            return ["player \(player) is active in \(live.count) stores after the cluster settled (\(states))"]
        }
        var problems: [String] = []
        for (earlier, later) in zip(home.events, home.events.dropFirst()) where later.epoch < earlier.epoch {
            problems.append("player \(player) at \(home.location): event \(later.sequence) has epoch \(later.epoch), below event \(earlier.sequence)'s \(earlier.epoch)")
        }
        for copy in copies where copy.location != home.location {
            if copy.state != .tombstoned {
                problems.append("player \(player) has a \(copy.state.rawValue) copy at \(copy.location) besides its home at \(home.location)")
            }
            for event in copy.events {
                let index = Int(event.sequence) - 1
                guard index >= 0, index < home.events.count, Self.same(home.events[index], event) else {
                    problems.append(
                        "player \(player): \(copy.location) accepted \(event.kind.rawValue) \(event.idempotencyKey) at sequence \(event.sequence), epoch \(event.epoch), which its home \(home.location) does not have: two writers"
                    )
                    break
                }
            }
        }
        return problems
    }

    /// The same write: what it did and under which epoch (not when each copy stored it).
    private static func same(_ a: LedgerEvent, _ b: LedgerEvent) -> Bool {
        a.sequence == b.sequence && a.kind == b.kind && a.idempotencyKey == b.idempotencyKey && a.epoch == b.epoch
            && a.tradeID == b.tradeID && a.deltas == b.deltas
    }
}
