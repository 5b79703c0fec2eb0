/// The fencing rule every write applies to the player's row, inside its transaction. Pure.
enum PlayerFence {
    /// Throws why a write presenting `epoch` (nil for system writes) and `activation` (nil for
    /// writes not made by a player actor) must be refused.
    static func check(
        _ player: PlayerID, state: PlayerState, current: Epoch, presented epoch: Epoch?,
        activation: Activation = 0, presentedActivation: Activation? = nil
    ) throws(StorageError) {
        switch state {
        case .active: break
        case .frozen:
            throw StorageError(.frozen, "player \(player) is frozen while their home region moves; retry when the transfer completes")
        case .incoming:
            // The same code as a freeze: retryable, and trade deliveries defer instead of rejecting.
            throw .arriving(player)
        case .tombstoned:
            throw StorageError(.tombstoned, "player \(player) moved to another region; send the write to their new home region")
        }
        if let epoch, epoch != current {
            throw StorageError(
                .staleEpoch(current: current),
                "write for player \(player) carries epoch \(epoch) but the current epoch is \(current); refresh the player's home-region assignment"
            )
        }
        if let presentedActivation, presentedActivation != activation {
            throw StorageError(
                .activationLost(current: activation),
                "player \(player) was activated on another node (activation \(activation), this writer holds \(presentedActivation)); this node no longer serves them"
            )
        }
    }
}

extension StorageError {
    /// A write to an ``PlayerState/incoming`` copy: the player is still being copied here.
    static func arriving(_ player: PlayerID) -> StorageError {
        StorageError(.frozen, "player \(player) is arriving from another region (a transfer of their home is under way); retry when the transfer completes")
    }
}
