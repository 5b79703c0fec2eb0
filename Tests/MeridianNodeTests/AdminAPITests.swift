import Foundation
import MeridianAdmin
import MeridianGame
import MeridianNode
import MeridianRegion
import MeridianTestHTTP
import MeridianTestSupport
import Testing

/// The admin HTTP of running nodes: readiness follows the node's life, and the JSON API reports
/// the whole cluster from any node.
@Suite struct AdminAPITests {
    static let token = "mrd_admin-api-test-token"
    static let options = {
        var options = GameTestCluster.Options()
        options.adminTokens = AdminTokens(entries: [.init(name: "tester", role: .viewer, token: token)])
        return options
    }()

    static func decode<T: Decodable>(_ type: T.Type, _ response: HTTPExchange.Response) throws -> T {
        try JSONDecoder().decode(type, from: Data(response.body.utf8))
    }

    @Test func theAPIReportsEveryNodeQueueAndPlayerFromAnyNodeAndReadinessEndsWhenTheNodeLeaves() async throws {
        try await GameTestCluster.with(options: Self.options) { cluster in
            let admin = try #require(cluster.node("us-east-2")?.admin)
            let ready = try await HTTPExchange.get("/readyz", port: admin.port)
            #expect(ready.statusLine == "HTTP/1.1 200 OK")

            let overview = try Self.decode(ClusterOverview.self, try await HTTPExchange.get("/api/v1/cluster", port: admin.port, token: Self.token))
            #expect(overview.servedBy == "us-east-2")
            #expect(overview.nodes.map(\.node) == ["eu-west-1", "eu-west-2", "us-east-1", "us-east-2"])
            #expect(Set(overview.nodes.map(\.state)) == ["up"])
            // Every node answered with its figures; fixed rules mean no catalog replica (version 0).
            let figures = overview.nodes.compactMap(\.figures)
            #expect(figures.count == 4)
            #expect(Set(figures.map(\.topologyVersion)) == [1])
            #expect(Set(figures.map(\.catalogVersion)) == [0])

            // A queued solo player waits at its region's matchmaker, with the reason the console shows.
            let player = try await cluster.createPlayer("queued", home: "eu-west")
            let front = try cluster.front(via: "eu-west-1")
            _ = try await front.queue(solo(player, home: "eu-west"), region: "eu-west")
            let queues = try Self.decode([QueueOverview].self, try await HTTPExchange.get("/api/v1/queues", port: admin.port, token: Self.token))
            #expect(queues.map(\.region) == ["eu-west", "us-east"])
            let euWest = try #require(queues.first)
            #expect(euWest.error == nil)
            #expect(euWest.queuedPlayers == 1)
            #expect(euWest.tickets.first?.reason.isEmpty == false)

            // The player lookup goes to the identity directory and the player's home.
            let account = try await cluster.createAccount(name: "looked-up", home: "eu-west")
            let home = try cluster.home(of: account, region: "eu-west")
            _ = try await home.grant(item: "gold", count: 7, idempotencyKey: "admin-api-test")
            let found = try Self.decode(PlayerOverview.self, try await HTTPExchange.get("/api/v1/players/\(account.uuidString)", port: admin.port, token: Self.token))
            #expect(found.homeRegion == "eu-west")
            #expect(found.balances["gold"] == 7)
            #expect(found.banned == false)
            let unknown = try await HTTPExchange.get("/api/v1/players/\(UUID().uuidString)", port: admin.port, token: Self.token)
            #expect(unknown.statusLine == "HTTP/1.1 404 Not Found")
            let malformed = try await HTTPExchange.get("/api/v1/players/not-a-uuid", port: admin.port, token: Self.token)
            #expect(malformed.statusLine == "HTTP/1.1 400 Bad Request")

            // Leaving: readiness turns 503 before the node's other parts stop.
            let leaving = try #require(cluster.node("us-east-2"))
            let stopped = Task { await leaving.node.stop(.leave(drainTimeout: .zero)) }
            try await leaving.waitUntilStopped()
            await stopped.value
            let after = try? await HTTPExchange.get("/readyz", port: admin.port)
            #expect(after == nil || after?.statusLine == "HTTP/1.1 503 Service Unavailable")
        }
    }
}
