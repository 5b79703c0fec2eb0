/// The state changes cross-region transfer drives, shared by both backends. Pure.
enum PlayerTransitions {
    static func freeze(_ player: PlayerID, from state: PlayerState) throws(StorageError) -> PlayerState {
        switch state {
        case .active, .frozen: return .frozen
        case .tombstoned: throw StorageError(.tombstoned, "player \(player) already moved away from this store; nothing to freeze")
        }
    }

    static func unfreeze(_ player: PlayerID, from state: PlayerState) throws(StorageError) -> PlayerState {
        switch state {
        case .active, .frozen: return .active
        case .tombstoned: throw StorageError(.tombstoned, "player \(player) moved away from this store; it cannot accept writes again")
        }
    }

    static func tombstone(_ player: PlayerID, from state: PlayerState) throws(StorageError) -> PlayerState {
        switch state {
        case .frozen, .tombstoned: return .tombstoned
        case .active: throw .invalid("player \(player) is active; freeze them before tombstoning (the transfer saga freezes first)")
        }
    }

    static func setEpoch(_ player: PlayerID, current: Epoch, to epoch: Epoch) throws(StorageError) -> Epoch {
        guard epoch >= current else {
            throw StorageError(.staleEpoch(current: current), "player \(player) is at epoch \(current); epochs never go back to \(epoch)")
        }
        return epoch
    }
}
