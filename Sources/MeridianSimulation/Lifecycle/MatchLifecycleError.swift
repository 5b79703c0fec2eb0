/// A lifecycle event refused by ``MatchLifecycle``; the state is unchanged.
public struct MatchLifecycleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Why the event was refused.
    public enum Code: String, Sendable, Hashable {
        /// The event is never legal in this phase.
        case illegalTransition
        /// The event names a player who is not in the match.
        case unknownPlayer
        /// The player is already in the match.
        case duplicatePlayer
        /// The match has its maximum of players.
        case matchFull
        /// Fewer connected players than the minimum.
        case notEnoughPlayers
        /// Disconnect of a disconnected player, or reconnect of a connected one.
        case connectionStateMismatch
    }

    public var code: Code
    /// The phase the match was in when the event was refused.
    public var phase: MatchPhase
    /// The refused event.
    public var event: MatchLifecycleEvent.Kind
    /// The player the event named, if any.
    public var player: MatchPlayerID?

    public init(code: Code, phase: MatchPhase, event: MatchLifecycleEvent.Kind, player: MatchPlayerID? = nil) {
        self.code = code
        self.phase = phase
        self.event = event
        self.player = player
    }

    public var description: String {
        let who = self.player.map { " for player \($0)" } ?? ""
        switch self.code {
        case .illegalTransition:
            return "match lifecycle: '\(self.event.rawValue)' is not allowed in phase \(self.phase.rawValue); the match actor sent an event out of order"
        case .unknownPlayer:
            return "match lifecycle: '\(self.event.rawValue)'\(who) refused in phase \(self.phase.rawValue): the player is not in this match"
        case .duplicatePlayer:
            return "match lifecycle: '\(self.event.rawValue)'\(who) refused in phase \(self.phase.rawValue): the player already joined"
        case .matchFull:
            return "match lifecycle: '\(self.event.rawValue)'\(who) refused in phase \(self.phase.rawValue): the match is full; queue the player for another match"
        case .notEnoughPlayers:
            return "match lifecycle: '\(self.event.rawValue)' refused in phase \(self.phase.rawValue): not enough connected players; wait for more to join"
        case .connectionStateMismatch:
            return "match lifecycle: '\(self.event.rawValue)'\(who) refused in phase \(self.phase.rawValue): the player is already in that connection state"
        }
    }
}
