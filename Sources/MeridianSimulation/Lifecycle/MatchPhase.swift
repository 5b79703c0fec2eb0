/// The phases of a match, in order: `lobby → countdown → active → postgame → closed`.
public enum MatchPhase: String, Sendable, Hashable, CaseIterable {
    /// Players gather; the countdown starts once enough are connected.
    case lobby
    /// The match is about to start; dropping below the minimum returns to the lobby.
    case countdown
    /// The authoritative tick runs.
    case active
    /// The match is decided; results are being delivered to the players' home regions.
    case postgame
    /// Terminal: nothing more is accepted.
    case closed
}
