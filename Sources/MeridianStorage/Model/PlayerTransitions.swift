/// The state changes cross-region transfer drives, shared by both backends. Pure.
///
/// Source side: `active → frozen → tombstoned` (or back to `active` on rollback). Destination side:
/// absent (or `tombstoned`, a player coming back) `→ incoming → active`, or `incoming →` absent on
/// rollback. An `incoming` copy only leaves that state through ``activate(_:from:current:to:)`` or
/// ``discard(_:from:)``: freezing, unfreezing or tombstoning it would let it skip the epoch check.
enum PlayerTransitions {
    static func freeze(_ player: PlayerID, from state: PlayerState) throws(StorageError) -> PlayerState {
        switch state {
        case .active, .frozen: return .frozen
        case .incoming: throw .arriving(player)
        case .tombstoned: throw StorageError(.tombstoned, "player \(player) already moved away from this store; nothing to freeze")
        }
    }

    static func unfreeze(_ player: PlayerID, from state: PlayerState) throws(StorageError) -> PlayerState {
        switch state {
        case .active, .frozen: return .active
        case .incoming: throw .invalid("player \(player) is an incoming copy; a transfer activates it (activateIncoming) or discards it, it is never unfrozen")
        case .tombstoned: throw StorageError(.tombstoned, "player \(player) moved away from this store; it cannot accept writes again")
        }
    }

    static func tombstone(_ player: PlayerID, from state: PlayerState) throws(StorageError) -> PlayerState {
        switch state {
        case .frozen, .tombstoned: return .tombstoned
        case .active: throw .invalid("player \(player) is active; freeze them before tombstoning (the transfer saga freezes first)")
        case .incoming: throw .invalid("player \(player) is an incoming copy; discard it (discardIncoming) to roll a transfer back")
        }
    }

    static func setEpoch(_ player: PlayerID, current: Epoch, to epoch: Epoch) throws(StorageError) -> Epoch {
        guard epoch >= current else {
            throw StorageError(.staleEpoch(current: current), "player \(player) is at epoch \(current); epochs never go back to \(epoch)")
        }
        return epoch
    }

    /// `incoming → active` at the epoch the copy was imported with; a repeated call finds it active.
    static func activate(_ player: PlayerID, from state: PlayerState, current: Epoch, to epoch: Epoch) throws(StorageError) -> PlayerState {
        switch state {
        case .incoming, .active:
            guard epoch == current else {
                throw StorageError(
                    .staleEpoch(current: current),
                    "player \(player) was copied here at epoch \(current), not \(epoch); activate with the epoch the import was given"
                )
            }
            return .active
        case .frozen:
            throw .invalid("player \(player) is frozen in this store, not incoming; only an imported copy can be activated")
        case .tombstoned:
            throw StorageError(.tombstoned, "player \(player) moved away from this store; import them again before activating")
        }
    }

    /// Whether an existing copy may be discarded (deleted); nil `state` (absent) is a no-op.
    static func discard(_ player: PlayerID, from state: PlayerState) throws(StorageError) {
        switch state {
        case .incoming: return
        case .active, .frozen, .tombstoned:
            throw .invalid("player \(player) is \(state.rawValue) in this store, not incoming; only a transfer's incoming copy can be discarded")
        }
    }
}
