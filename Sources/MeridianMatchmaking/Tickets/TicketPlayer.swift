import Foundation

/// One player in a ticket: who they are and their current skill.
public struct TicketPlayer: Sendable, Hashable {
    /// The player's id; a player can be in at most one queued ticket of a pool.
    public var id: UUID
    /// The player's rating when the ticket was made.
    public var skill: SkillRating

    public init(id: UUID, skill: SkillRating) {
        self.id = id
        self.skill = skill
    }
}
