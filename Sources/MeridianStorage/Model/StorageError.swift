/// Why a storage operation failed. `code` is what a program switches on (it carries the facts a caller
/// needs, such as the current epoch); `message` tells the operator what happened and what to do.
///
/// Refusals (``Code/staleEpoch(current:)``, ``Code/frozen``, ``Code/insufficientBalance(item:available:requested:)``,
/// …) are decided inside the write's transaction and mean nothing was written. Infrastructure failures
/// (``Code/unavailable``, ``Code/backend``) mean the transaction did not commit.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        /// No player with that id lives in this store.
        case playerNotFound
        /// The write carried an epoch other than the player's current one (the player moved, or the writer is behind).
        case staleEpoch(current: Epoch)
        /// Another node activated the player since the writer did (its actor was re-activated there
        /// after this node was declared down); the writer must stop serving the player.
        case activationLost(current: Activation)
        /// The player is frozen (a transfer of their home region is under way); retry after it completes.
        case frozen
        /// The player's home region moved away from this store; their data lives elsewhere now.
        case tombstoned
        /// The append expected to receive `expected` but the player's next sequence number is `actual`.
        case sequenceConflict(expected: Int64, actual: Int64)
        /// The append would make `item`'s balance negative.
        case insufficientBalance(item: ItemKind, available: Int64, requested: Int64)
        /// The idempotency key (or trade id) was already used for a different request.
        case idempotencyConflict
        /// No trade with that id is known to this store.
        case tradeNotFound
        /// The trade was already settled the other way (delivered vs refunded), or was rejected by its receiver.
        case tradeSettled
        /// The account id or login method (username, device, platform subject) is taken already.
        case alreadyExists
        /// The request itself is malformed (empty key, non-positive quantity, …); fix the caller.
        case invalidArgument
        /// The database could not be reached, or the connection broke; the operation did not commit.
        case unavailable
        /// The database holds data this build cannot read, or data that breaks an invariant.
        case corruptData
        /// The schema could not be brought to this build's version.
        case migrationFailed
        /// The database reported an error not covered above; see ``StorageError/underlying``.
        case backend
    }

    public var code: Code
    public var message: String
    /// The backend's error (PostgreSQL's errors redact query parameters by default).
    public var underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// The code's name, stable for logs and metrics (`"staleEpoch"`).
    public var codeName: String {
        switch code {
        case .playerNotFound: "playerNotFound"
        case .staleEpoch: "staleEpoch"
        case .activationLost: "activationLost"
        case .frozen: "frozen"
        case .tombstoned: "tombstoned"
        case .sequenceConflict: "sequenceConflict"
        case .insufficientBalance: "insufficientBalance"
        case .idempotencyConflict: "idempotencyConflict"
        case .tradeNotFound: "tradeNotFound"
        case .tradeSettled: "tradeSettled"
        case .alreadyExists: "alreadyExists"
        case .invalidArgument: "invalidArgument"
        case .unavailable: "unavailable"
        case .corruptData: "corruptData"
        case .migrationFailed: "migrationFailed"
        case .backend: "backend"
        }
    }

    /// Whether retrying the same request later may succeed without changing it.
    public var isTransient: Bool {
        switch code {
        case .frozen, .unavailable, .activationLost: true
        default: false
        }
    }

    public var description: String {
        if let underlying { return "\(codeName): \(message) (\(underlying))" }
        return "\(codeName): \(message)"
    }
}

extension StorageError {
    static func playerNotFound(_ player: PlayerID) -> StorageError {
        StorageError(.playerNotFound, "player \(player) does not live in this store; look up their home region")
    }

    static func invalid(_ message: String) -> StorageError {
        StorageError(.invalidArgument, message)
    }

    static func corrupt(_ message: String) -> StorageError {
        StorageError(.corruptData, message + "; run `meridian ledger audit` and restore from backup if it persists")
    }
}
