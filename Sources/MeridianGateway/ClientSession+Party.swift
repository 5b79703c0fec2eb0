import Distributed
import Foundation
import Logging
import MeridianCatalog
import MeridianClock
import MeridianCluster
import MeridianGame
import MeridianIdentity
import MeridianMatchmaking
import MeridianRegion
import MeridianSimulation
import MeridianStorage
import MeridianTopology
import MeridianWire
import Synchronization

/// Parties by consent: invitations, accepting one, leaving.
extension ClientSession {
    func partyStatus(_ id: UInt64, leader: UUID?) -> Meridian_Client_V1_ServerMessage {
        var reply = Meridian_Client_V1_ServerMessage()
        reply.requestID = id
        reply.party.leaderID = leader?.uuidString.lowercased() ?? ""
        return reply
    }

    /// Invites another online player into this player's party (PartyInvite).
    func inviteIntoParty(_ invite: Meridian_Client_V1_PartyInvite, id: UInt64, player: UUID) async throws(GatewayError) {
        // One answer for an unknown, banned, offline or flooded invitee: nothing about them leaks.
        let refused = GatewayError(.refused, "that player cannot be invited now")
        guard let invitee = UUID(uuidString: invite.playerID), invitee != player,
              let entry = try? await context.identity.entry(of: invitee), entry.state == .active
        else { throw refused }
        let leaderName = displayName
        do {
            try await call { try await self.context.directory.home(of: invitee, region: entry.homeRegion).invite(from: player, leaderName: leaderName) }
        } catch where error.code == .refused {
            throw refused
        }
        outbox.send(partyStatus(id, leader: player))
    }

    /// Joins the party of the leader who invited this player (PartyAccept), at the player's own home.
    func acceptInvitation(_ accept: Meridian_Client_V1_PartyAccept, id: UInt64, player: UUID, homeRegion: String) async throws(GatewayError) {
        guard let leader = UUID(uuidString: accept.leaderID) else { throw GatewayError(.refused, "leader_id is not a player id") }
        try await call { try await self.context.directory.home(of: player, region: homeRegion).acceptInvitation(from: leader) }
        outbox.send(partyStatus(id, leader: leader))
    }

    /// Leaves the party this player joined (PartyLeave).
    func leaveParty(id: UInt64, player: UUID, homeRegion: String) async throws(GatewayError) {
        try await call { try await self.context.directory.home(of: player, region: homeRegion).leaveParty() }
        outbox.send(partyStatus(id, leader: nil))
    }
}
