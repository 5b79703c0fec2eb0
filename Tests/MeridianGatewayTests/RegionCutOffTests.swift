import Foundation
import MeridianCluster
import MeridianGame
import MeridianGateway
import MeridianMembership
import MeridianRegion
import MeridianTestSupport
import MeridianTopology
import MeridianWire
import Testing

/// The partition policy's first rule (README, "Partitions"): a region cut off from all the
/// others keeps serving the players whose home it is — logins that resume with a valid token
/// (verified with the keys the region already has), matches in the region, and writes to their
/// ledgers — even though the identity authority is on the other side.
@Suite("Gateway: a region cut off from the others", .serialized)
struct RegionCutOffTests {
    @Test func aRegionCutOffFromTheOthersServesItsHomePlayers() async throws {
        try await GameTestCluster.with(
            rules: GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2, timeLimitSeconds: 2), gateways: true,
            options: .init(emulateLinks: true)
        ) { cluster in
            let usEast = cluster.topology.nodes.filter { $0.region == "us-east" }.map(\.id)
            let euWest = cluster.topology.nodes.filter { $0.region == "eu-west" }.map(\.id)
            let firstGateway = try #require(cluster.node("us-east-1")?.gateway?.address)
            let secondGateway = try #require(cluster.node("us-east-2")?.gateway?.address)

            // Two us-east players log in before the cut (the authority, in eu-west, signs their tokens).
            var tokens: [String] = []
            var players: [UUID] = []
            for _ in 0..<2 {
                let player = try await cluster.createAccount(home: "us-east")
                let client = try await RawClient.connect(firstGateway)
                tokens.append(try await client.logIn(player).token)
                players.append(player)
                await client.close()
            }

            cluster.partition(Set(usEast), true)
            defer { cluster.partition(Set(usEast), false) }
            // Each side takes the other for dead: us-east is on its own now.
            for id in usEast {
                try await cluster.node(id)!.system.membership.waitUntil(timeout: .seconds(60)) { members in
                    members.filter { euWest.contains($0.id.node) }.allSatisfy(\.status.isTerminal)
                }
                #expect(cluster.node(id)!.system.isCutOff(in: cluster.topology) == false, "\(id) still has its region")
            }

            // Logins resume on the other gateway of the region with the tokens from before.
            var clients: [RawClient] = []
            for (index, token) in tokens.enumerated() {
                let client = try await RawClient.connect(secondGateway)
                clients.append(client)
                try await client.send(RawClient.message(1) { $0.hello.protocolVersion = 1 })
                try await client.send(RawClient.message(2) { $0.resume.token = token })
                let replyFound = try await client.next(where: { $0.requestID == 2 })
                let reply = try #require(replyFound)
                #expect(reply.login.playerID.lowercased() == players[index].uuidString.lowercased(), "resumed while cut off: \(reply)")
                #expect(reply.login.homeRegion == "us-east")
            }

            // Their ledgers take writes.
            for player in players {
                let home = try cluster.home(of: player, region: "us-east", via: "us-east-2")
                let granted = try await home.grant(item: "gold", count: 7, idempotencyKey: "while-cut-off")
                #expect(granted.balancesAfter["gold"] ?? 0 >= 7)
            }

            // They play a match in their region, and its result and reward reach their homes.
            for client in clients {
                try await client.send(RawClient.message(10) {
                    $0.queue.region = "us-east"
                    $0.queue.rttMs = ["us-east": 5, "eu-west": 50]
                })
            }
            for client in clients {
                let assignedFound = try await client.next(where: { $0.matchEvent.phase == "assigned" })
                let assigned = try #require(assignedFound)
                #expect(assigned.matchEvent.region == "us-east")
                let resultFound = try await client.next(where: { if case .result? = $0.body { true } else { false } })
                let result = try #require(resultFound)
                #expect(["win", "loss", "draw"].contains(result.result.outcome), "\(result)")
                let profileFound = try await client.next(where: { if case .profile? = $0.body { true } else { false } })
                let profile = try #require(profileFound)
                #expect(profile.profile.balances["gold"] ?? 0 >= 7 + cluster.rules.playReward)
            }
            for client in clients { await client.close() }
        }
    }
}
