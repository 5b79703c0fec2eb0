import Foundation
import MeridianClock

/// One player's side of parties, held by the player's actor: the invitations it received and
/// the leader whose party it joined. Pure (time comes in as `now`); ``PlayerHome`` drives it.
///
/// Consent is the invitee's: a leader can only invite; the invitee accepts from its own
/// session; a leader's queue seats the player only while it is in that leader's party
/// (``consents(to:)``, checked by the player's actor when the matchmaker takes the ticket).
public struct PartyMembership: Sendable {
    /// How long an invitation may be accepted. Default 5 minutes.
    public static let invitationLifetime = Duration.seconds(300)
    /// Invitations held at once: a flood of invites from many leaders is refused beyond this.
    public static let maxInvitations = 16

    public struct Invitation: Sendable, Hashable {
        public var leader: UUID
        public var leaderName: String
        public var expires: AnyClock.Instant
    }

    /// Pending invitations by leader, newest overwriting older ones from the same leader.
    public private(set) var invitations: [UUID: Invitation] = [:]
    /// The leader whose party this player is in.
    public private(set) var leader: UUID?

    public init() {}

    /// Records `leader`'s invitation. Refused when full of unexpired invitations from others.
    public mutating func invite(from leader: UUID, leaderName: String, now: AnyClock.Instant) throws(PlayerSessionError) {
        invitations = invitations.filter { $0.value.expires > now }
        guard invitations[leader] != nil || invitations.count < Self.maxInvitations else {
            throw PlayerSessionError(.notInvitable, "the player cannot take more invitations now")
        }
        invitations[leader] = Invitation(leader: leader, leaderName: leaderName, expires: now.advanced(by: Self.invitationLifetime))
    }

    /// Joins `leader`'s party: only with its unexpired invitation (spent by this).
    public mutating func accept(from leader: UUID, now: AnyClock.Instant) throws(PlayerSessionError) {
        guard let invitation = invitations.removeValue(forKey: leader), invitation.expires > now else {
            throw PlayerSessionError(.noInvitation, "no invitation from that player (or it expired); ask them to invite you again")
        }
        self.leader = leader
    }

    /// Leaves the party (and forgets pending invitations when `everything`, e.g. going offline).
    public mutating func leave(everything: Bool = false) {
        leader = nil
        if everything { invitations = [:] }
    }

    /// Whether a queue ticket led by `leader` may seat this player.
    public func consents(to leader: UUID) -> Bool {
        self.leader == leader
    }
}
