import Foundation
import MeridianIdentity
import MeridianRegion
import MeridianTestScope
import MeridianTestSupport
import MeridianWire
import SwiftProtobuf
import Testing
@testable import MeridianGateway

/// Parties by consent, as clients see them: a leader invites, the invitee accepts from its own
/// session, the leader queues them both. Nobody is queued, seated or told anything on the word
/// of another client.
@Suite("Gateway: parties by consent", .serialized)
struct GatewayPartyTests {
    typealias Identity = GatewayIdentityTests

    /// A logged-in password account on `node`'s gateway.
    struct Player {
        let client: RawClient
        let id: UUID
        let home: String
    }

    static func player(_ name: String, on node: String, in cluster: GameTestCluster) async throws -> Player {
        let client = try await Identity.connect(cluster, node)
        let login = try await Identity.request(client, 2, Identity.password(name, "a long password", create: true)).login
        return Player(client: client, id: try #require(UUID(uuidString: login.playerID)), home: login.homeRegion)
    }

    static let rules = GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2, timeLimitSeconds: 60)

    @Test func aPartyFormsByConsentAndPlaysTogetherAcrossRegions() async throws {
        try await GameTestCluster.with(rules: Self.rules, gateways: true, options: .init(devLogin: false)) { cluster in
            let leader = try await Self.player("leader", on: "us-east-1", in: cluster)
            let member = try await Self.player("member", on: "eu-west-1", in: cluster)
            #expect(leader.home == "us-east" && member.home == "eu-west")

            let invited = try await Identity.request(leader.client, 10) { $0.partyInvite.playerID = member.id.uuidString }
            #expect(invited.party.leaderID == leader.id.uuidString.lowercased(), "\(invited)")
            let invitationFound = try await member.client.next(where: { if case .partyInvitation? = $0.body { true } else { false } })
            let invitation = try #require(invitationFound)
            #expect(invitation.requestID == 0)
            #expect(invitation.partyInvitation.leaderID == leader.id.uuidString.lowercased())
            #expect(invitation.partyInvitation.leaderName == "leader")

            let accepted = try await Identity.request(member.client, 10) { $0.partyAccept.leaderID = invitation.partyInvitation.leaderID }
            #expect(accepted.party.leaderID == leader.id.uuidString.lowercased(), "\(accepted)")

            let queued = try await Identity.request(leader.client, 11) {
                $0.queue.party = [member.id.uuidString]
                $0.queue.region = "eu-west"
            }
            #expect(queued.queueStatus.queued, "\(queued)")
            // The member learns of the queue and the match by push, without asking.
            let memberQueuedFound = try await member.client.next(where: { $0.queueStatus.queued })
            let memberQueued = try #require(memberQueuedFound)
            #expect(memberQueued.requestID == 0)
            #expect(memberQueued.queueStatus.ticketID == queued.queueStatus.ticketID)
            let leaderMatchFound = try await leader.client.next(where: { $0.matchEvent.phase == "assigned" })
            let leaderMatch = try #require(leaderMatchFound)
            let memberMatchFound = try await member.client.next(where: { $0.matchEvent.phase == "assigned" })
            let memberMatch = try #require(memberMatchFound)
            #expect(leaderMatch.matchEvent.matchID == memberMatch.matchEvent.matchID)
            let required1 = try await member.client.next(where: { if case .delta? = $0.body { true } else { false } })
            _ = try #require(required1)
            await leader.client.close()
            await member.client.close()
        }
    }

    /// Every way a party can lack a member's consent is refused before anything changes for
    /// anyone, with one message that says nothing about the member.
    @Test func aMemberWhoDidNotConsentIsOfflineBusyOrUnknownIsRefusedAndNothingChanges() async throws {
        try await GameTestCluster.with(rules: Self.rules, gateways: true, options: .init(devLogin: false)) { cluster in
            let leader = try await Self.player("leader", on: "us-east-1", in: cluster)
            let member = try await Self.player("member", on: "eu-west-1", in: cluster)
            var request: UInt64 = 10
            func queueParty(_ members: [UUID]) async throws -> Meridian_Client_V1_ServerMessage {
                request += 1
                return try await Identity.request(leader.client, request) {
                    $0.queue.party = members.map(\.uuidString)
                    $0.queue.region = "eu-west"
                }
            }
            func expectRefusedLeavingEveryoneAsTheyWere(_ members: [UUID], memberSession: PlayerSession = .idle, _ comment: Comment) async throws {
                let reply = try await queueParty(members)
                #expect(reply.error.code == .refused, comment)
                for id in members { #expect(!reply.error.message.contains(id.uuidString.lowercased()), "the refusal names a member") }
                #expect(try await cluster.home(of: leader.id, region: leader.home).currentSession() == .idle, comment)
                #expect(try await cluster.home(of: member.id, region: member.home).currentSession() == memberSession, comment)
            }

            // Never invited, then invited but not (yet) accepted.
            try await expectRefusedLeavingEveryoneAsTheyWere([member.id], "never invited")
            let leaderID5 = try await Identity.request(leader.client, 5) { $0.partyInvite.playerID = member.id.uuidString }.party.leaderID
            #expect(leaderID5 == leader.id.uuidString.lowercased())
            try await expectRefusedLeavingEveryoneAsTheyWere([member.id], "invited, not accepted")

            // Accepting an invitation nobody sent is refused; so is a made-up leader id.
            let stranger = try await Self.player("stranger", on: "eu-west-1", in: cluster)
            let unsolicited = try await Identity.request(member.client, 5) { $0.partyAccept.leaderID = stranger.id.uuidString }
            #expect(unsolicited.error.code == .refused, "\(unsolicited)")
            let code6 = try await Identity.request(member.client, 6) { $0.partyAccept.leaderID = "not-a-player" }.error.code
            #expect(code6 == .refused)

            // Accepted, then left: no longer in the party.
            let leaderID7 = try await Identity.request(member.client, 7) { $0.partyAccept.leaderID = leader.id.uuidString }.party.leaderID
            #expect(leaderID7 == leader.id.uuidString.lowercased())
            let isEmpty8 = try await Identity.request(member.client, 8) { $0.partyLeave = .init() }.party.leaderID.isEmpty
            #expect(isEmpty8)
            try await expectRefusedLeavingEveryoneAsTheyWere([member.id], "accepted, then left")

            // In the party but busy with a queue of its own: refused; its own ticket stays.
            let leaderID9 = try await Identity.request(leader.client, 9) { $0.partyInvite.playerID = member.id.uuidString }.party.leaderID
            #expect(leaderID9 == leader.id.uuidString.lowercased())
            let leaderID10 = try await Identity.request(member.client, 9) { $0.partyAccept.leaderID = leader.id.uuidString }.party.leaderID
            #expect(leaderID10 == leader.id.uuidString.lowercased())
            let ownQueue = try await Identity.request(member.client, 10) { $0.queue.region = "us-east" }
            #expect(ownQueue.queueStatus.queued)
            let memberSession = try await cluster.home(of: member.id, region: member.home).currentSession()
            guard case .queued(let ownTicket, _) = memberSession else {
                Issue.record("the member is not queued: \(memberSession)")
                return
            }
            #expect(ownTicket.id.uuidString.lowercased() == ownQueue.queueStatus.ticketID)
            try await expectRefusedLeavingEveryoneAsTheyWere([member.id], memberSession: memberSession, "busy in a queue of its own")

            // An account nobody is connected as cannot be invited or queued.
            let offline = try await cluster.all[0].identity.createAccount(.with {
                $0.password.username = "offline"
                $0.password.password = "a long password"
                $0.homeRegion = "eu-west"
            }).account.player
            let notInvitable = try await Identity.request(leader.client, 20) { $0.partyInvite.playerID = offline.uuidString }
            #expect(notInvitable.error.code == .refused)
            let unknown = try await Identity.request(leader.client, 21) { $0.partyInvite.playerID = UUID().uuidString }
            #expect(unknown.error.code == .refused, "\(unknown)")
            #expect(unknown.error.message == notInvitable.error.message, "an unknown and an offline player look the same")
            let offlineRefused = try await queueParty([offline])
            #expect(offlineRefused.error.code == .refused)
            #expect(try await cluster.home(of: offline, region: "eu-west").currentSession() == .idle)
            #expect(try await cluster.home(of: leader.id, region: leader.home).currentSession() == .idle)

            for player in [leader, member, stranger] { await player.client.close() }
        }
    }
}
