/// When a receiver's store may reject a trade. Pure.
enum TradeRejection {
    /// Rejection is only for receivers that cannot ever take the trade here: unknown, or moved away.
    static func check(receiver: PlayerID, state: PlayerState?) throws(StorageError) {
        switch state {
        case nil, .tombstoned?:
            return
        case .frozen?:
            throw StorageError(.frozen, "receiver \(receiver) is frozen while their home region moves; retry the trade later")
        case .incoming?:
            // Arriving here: they will be able to take it once the transfer activates them.
            throw .arriving(receiver)
        case .active?:
            throw .invalid("receiver \(receiver) is active in this store; deliver the trade instead of rejecting it")
        }
    }
}
