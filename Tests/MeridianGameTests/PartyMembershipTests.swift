import Foundation
import MeridianClock
import MeridianRegion
import Testing

/// A player's side of parties as a pure value: consent is given only by accepting an
/// unexpired invitation, and only that leader's tickets may seat the player.
@Suite("Party membership")
struct PartyMembershipTests {
    let leader = UUID()
    let other = UUID()
    let t0 = AnyClock.Instant(offset: .seconds(100))

    @Test func acceptingAnInvitationJoinsThatLeadersPartyOnly() throws {
        var party = PartyMembership()
        #expect(!party.consents(to: leader), "no consent before an invitation is accepted")
        try party.invite(from: leader, leaderName: "lead", now: t0)
        #expect(!party.consents(to: leader), "an invitation alone is not consent")
        try party.accept(from: leader, now: t0.advanced(by: .seconds(10)))
        #expect(party.consents(to: leader))
        #expect(!party.consents(to: other))
        // Spent: accepting the same invitation again is refused.
        #expect(throws: PlayerSessionError.self) { try party.accept(from: leader, now: t0.advanced(by: .seconds(11))) }
        party.leave()
        #expect(!party.consents(to: leader))
    }

    @Test func anInvitationExpiresAtItsLifetime() throws {
        var party = PartyMembership()
        try party.invite(from: leader, leaderName: "lead", now: t0)
        let error = #expect(throws: PlayerSessionError.self) {
            try party.accept(from: leader, now: t0.advanced(by: PartyMembership.invitationLifetime))
        }
        #expect(error?.code == .noInvitation)
        #expect(!party.consents(to: leader))

        try party.invite(from: leader, leaderName: "lead", now: t0)
        try party.accept(from: leader, now: t0.advanced(by: PartyMembership.invitationLifetime - .milliseconds(1)))
        #expect(party.consents(to: leader))
    }

    @Test func aFloodOfInvitationsIsBoundedAndExpiredOnesMakeRoom() throws {
        var party = PartyMembership()
        for _ in 0..<PartyMembership.maxInvitations {
            try party.invite(from: UUID(), leaderName: "x", now: t0)
        }
        let error = #expect(throws: PlayerSessionError.self) { try party.invite(from: leader, leaderName: "late", now: t0) }
        #expect(error?.code == .notInvitable)
        #expect(party.invitations.count == PartyMembership.maxInvitations)
        // Once the others expired, there is room again.
        try party.invite(from: leader, leaderName: "late", now: t0.advanced(by: PartyMembership.invitationLifetime))
        #expect(party.invitations.count == 1)
    }

    @Test func goingOfflineForgetsTheInvitationsAndTheParty() throws {
        var party = PartyMembership()
        try party.invite(from: leader, leaderName: "lead", now: t0)
        try party.invite(from: other, leaderName: "other", now: t0)
        try party.accept(from: leader, now: t0)
        party.leave(everything: true)
        #expect(!party.consents(to: leader))
        #expect(party.invitations.isEmpty)
        #expect(throws: PlayerSessionError.self) { try party.accept(from: other, now: t0) }
    }
}
