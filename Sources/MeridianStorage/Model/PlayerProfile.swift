import Foundation
import MeridianMatchmaking

/// Whether a player's data in this store accepts writes.
public enum PlayerState: String, Hashable, Sendable {
    /// Writes with the current epoch are accepted.
    case active
    /// A transfer of the player's home region is under way: every write is refused until
    /// ``RegionStore/unfreeze(_:)`` (rollback) or ``RegionStore/tombstone(_:)`` (transfer done).
    case frozen
    /// The player moved to another region; this copy is kept for audit and refuses every write.
    case tombstoned
    /// A transfer is copying the player into this store (``RegionStore/importPlayer(_:epoch:)``):
    /// every write is refused until ``RegionStore/activateIncoming(_:epoch:)`` (transfer done) or
    /// ``RegionStore/discardIncoming(_:)`` (rolled back). The audit does not count this copy.
    case incoming
}

/// What a new player starts with.
public struct NewPlayer: Hashable, Sendable {
    public var id: PlayerID
    public var displayName: String
    /// The region whose store holds the player's data (this store's region).
    public var homeRegion: String
    /// The epoch the identity directory assigned; ``Epoch/initial`` for a brand new account.
    public var epoch: Epoch
    public var createdAt: Date

    public init(id: PlayerID, displayName: String, homeRegion: String, epoch: Epoch = .initial, createdAt: Date = Date()) {
        self.id = id
        self.displayName = displayName
        self.homeRegion = homeRegion
        self.epoch = epoch
        self.createdAt = createdAt
    }
}

/// A player's profile and progression as stored in their home region.
public struct PlayerProfile: Hashable, Sendable {
    public var id: PlayerID
    public var displayName: String
    public var homeRegion: String
    public var createdAt: Date
    /// The current fencing epoch; writes must carry it.
    public var epoch: Epoch
    public var state: PlayerState
    public var progression: Progression
    /// The sequence number of the player's last ledger event (0 before the first).
    public var ledgerSequence: Int64
    /// The player's skill rating, as last set by a match result (``SkillRating/initial`` for a new player).
    public var skill: SkillRating

    public init(
        id: PlayerID, displayName: String, homeRegion: String, createdAt: Date, epoch: Epoch,
        state: PlayerState, progression: Progression, ledgerSequence: Int64, skill: SkillRating = .initial
    ) {
        self.id = id
        self.displayName = displayName
        self.homeRegion = homeRegion
        self.createdAt = createdAt
        self.epoch = epoch
        self.state = state
        self.progression = progression
        self.ledgerSequence = ledgerSequence
        self.skill = skill
    }
}

extension NewPlayer {
    /// The longest display name the stores accept (in characters).
    public static let maximumDisplayNameLength = 64

    func validate() throws(StorageError) {
        try Validation.displayName(displayName)
        guard !homeRegion.isEmpty else { throw .invalid("a player needs a home region") }
        guard epoch.rawValue >= 1 else { throw .invalid("epochs start at 1, got \(epoch)") }
    }
}

enum Validation {
    static func displayName(_ name: String) throws(StorageError) {
        guard !name.isEmpty, name.count <= NewPlayer.maximumDisplayNameLength else {
            throw .invalid("a display name has 1 to \(NewPlayer.maximumDisplayNameLength) characters, got \(name.count)")
        }
    }
}

/// What ``RegionStore/claimActivation(of:node:)`` returns: the activation the claimer now holds
/// and the player's profile as of the claim.
public struct ActivationClaim: Hashable, Sendable {
    public var activation: Activation
    public var profile: PlayerProfile

    public init(activation: Activation, profile: PlayerProfile) {
        self.activation = activation
        self.profile = profile
    }
}
