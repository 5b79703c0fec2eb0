import Foundation

/// Which copies of a player in transfer the audit counts, so that a player counts exactly once at
/// every step of a transfer. Pure.
///
/// - An `incoming` copy (being imported) never counts, nor does a `tombstoned` one (moved away):
///   the stores leave them out of their totals themselves.
/// - Between the destination's activation and the source's tombstone both copies are live: the
///   source frozen at epoch e, the destination active at e + 1. A frozen copy therefore counts
///   unless another store counts a copy of the same player with a higher epoch.
/// - Two counted copies at the same epoch cannot come from a transfer: reported as a mismatch.
struct TransferCopies {
    /// Per store (by index), the frozen players whose copy there does not count.
    private(set) var superseded: [Int: Set<PlayerID>] = [:]
    private(set) var mismatches: [AuditMismatch] = []

    init(_ stores: [LedgerAuditData]) {
        for (index, store) in stores.enumerated() {
            for (player, copy) in store.frozenCopies.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
                for (other, elsewhere) in stores.enumerated() where other != index {
                    let frozenThere = elsewhere.frozenCopies[player]
                    guard let epoch = frozenThere?.epoch ?? elsewhere.counterpartEpochs[player] else { continue }
                    if epoch > copy.epoch {
                        superseded[index, default: []].insert(player)
                    } else if epoch == copy.epoch, frozenThere == nil || index < other {
                        mismatches.append(AuditMismatch(
                            kind: .structure, location: nil, player: player, item: nil, tradeID: nil, sequence: nil,
                            expected: nil, actual: nil,
                            message: "player \(player) is live at epoch \(epoch) in both \(store.location) and \(elsewhere.location): counted twice"
                        ))
                    }
                }
            }
        }
    }

    /// The copies not counted in `store` (at `index`), with what they added to its totals.
    func excluded(_ index: Int, of store: LedgerAuditData) -> [LedgerAuditData.FrozenCopy] {
        (superseded[index] ?? []).compactMap { store.frozenCopies[$0] }
    }
}
