/// Why the game layer refused a request; each code says what the caller should do.
public struct GameError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// This node does not own the shard (now): ask the placement again.
        case notShardOwner
        /// The shard is being handed over at a match boundary: try another shard.
        case shardHandover
        /// The match no longer takes players (past COUNTDOWN or closed): queue again.
        case matchNotJoinable
        /// The player is not seated in this match.
        case notInMatch
        /// This node is not (or no longer) the region's matchmaker: resolve it again.
        case notMatchmaker
        /// The ticket is malformed (no players, party too large, duplicate player).
        case invalidTicket
        /// No shard of the region could take a match now.
        case noShardAvailable
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
