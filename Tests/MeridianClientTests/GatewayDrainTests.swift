import Foundation
import MeridianClient
import MeridianGateway
import MeridianTestSupport
import NIOPosix
import Testing

/// A gateway that leaves tells its clients where to go: they resume their sessions at another
/// gateway of the region with their tokens (no new login) and their running match goes on.
@Suite("Client: a draining gateway hands its clients over", .serialized)
struct GatewayDrainTests {
    let group = MultiThreadedEventLoopGroup.singleton

    @Test func clientsOfADrainedGatewayResumeElsewhereAndFinishTheirMatch() async throws {
        try await GameTestCluster.with(
            rules: GameTestCluster.fastRules(minPlayers: 2, maxPlayers: 2, timeLimitSeconds: 3), gateways: true
        ) { cluster in
            let leaving = try #require(cluster.node("eu-west-1")?.gateway)
            let staying = try #require(cluster.node("eu-west-2")?.gateway?.address)
            let parts = leaving.address.split(separator: ":")
            var clients: [GameClient] = []
            for name in ["ann", "bob"] {
                let client = GameClient(group: group, logger: testLogger())
                try await client.connect(host: String(parts[0]), port: Int(parts[1])!)
                _ = try await client.hello()
                _ = try await client.devLogin(playerID: UUID().uuidString.lowercased(), displayName: name)
                _ = try await client.queue(rtt: ["eu-west": .milliseconds(5), "us-east": .milliseconds(50)], region: "eu-west")
                clients.append(client)
            }
            // Both play: each has applied a snapshot of the match.
            var iterators = clients.map { $0.events.makeAsyncIterator() }
            for index in iterators.indices {
                while let event = await iterators[index].next() {
                    if case .snapshotApplied = event { break }
                    if case .disconnected(let error) = event { Issue.record("disconnected before the drain: \(error)") }
                }
            }
            let tokens = clients.map(\.token)

            let drain = Task { await leaving.drain(timeout: .seconds(30)) }
            for index in iterators.indices {
                var redirectedTo: String?
                var snapshotsAfter = 0
                var result: MatchResult?
                while result == nil, let event = await iterators[index].next() {
                    switch event {
                    case .redirected(let gateway, _): redirectedTo = gateway
                    case .snapshotApplied where redirectedTo != nil: snapshotsAfter += 1
                    case .result(let finished): result = finished
                    case .disconnected(let error): Issue.record("client \(index) was disconnected: \(error)")
                    default: break
                    }
                    if case .disconnected = event { break }
                }
                #expect(redirectedTo == staying, "client \(index) resumed at the region's other gateway")
                #expect(snapshotsAfter > 0, "client \(index)'s match went on after the hand-over")
                let outcome = result?.outcome
                #expect(outcome != nil && outcome != "server_lost", "client \(index): \(String(describing: result))")
            }
            // The drain ends as soon as its clients have moved, long before its 30 s bound.
            await drain.value
            #expect(clients.map(\.token) == tokens, "the sessions were resumed, not logged in again")
            for client in clients { await client.finish() }
        }
    }
}
