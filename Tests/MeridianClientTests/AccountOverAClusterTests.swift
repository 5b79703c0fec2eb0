import Foundation
import MeridianClient
import MeridianGateway
import MeridianIdentity
import MeridianTestSupport
import NIOPosix
import Synchronization
import Testing

/// The client library's account calls against a real cluster's gateways: a guest upgrades by
/// linking a platform identity and a password, moves its home, and logs in with the platform
/// ticket on another connection as the same player.
@Suite("Client: accounts over a cluster", .serialized)
struct AccountOverAClusterTests {
    let group = MultiThreadedEventLoopGroup.singleton

    func connected(to cluster: GameTestCluster, _ node: String) async throws -> GameClient {
        let address = try #require(cluster.node(node)?.gateway?.address)
        let parts = address.split(separator: ":")
        let client = GameClient(group: group, logger: testLogger())
        try await client.connect(host: String(parts[0]), port: Int(parts[1])!)
        try await client.hello()
        return client
    }

    @Test func aGuestLinksAPlatformAndAPasswordMovesHomeAndLogsInWithTheTicket() async throws {
        let mint = try await PlatformTicketMint()
        let verifier = try await mint.verifier(platform: "test")
        let options = GameTestCluster.Options(devLogin: false, identity: { $0.platforms = [verifier] })
        try await GameTestCluster.with(gateways: true, options: options) { cluster in
            let guest = try await connected(to: cluster, "eu-west-1")
            let login = try await guest.deviceLogin(deviceID: "carols-tablet", secret: Array(repeating: 3, count: 32), displayName: "Carol")
            #expect(login.homeRegion == "eu-west")
            let ticket = try await mint.ticket(subject: "carol")
            let withPlatform = try await guest.link(.platform(platform: "test", ticket: ticket))
            #expect(Set(withPlatform) == ["device", "platform"])
            let withPassword = try await guest.link(.password(username: "carol", password: "a long password"))
            #expect(Set(withPassword) == ["device", "platform", "password:carol"])

            let home = try await guest.moveHome(to: "us-east")
            #expect(home == "us-east")
            let profile = try await guest.profile()
            #expect(profile.homeRegion == "us-east")
            let methods = try await guest.unlink(kind: "device")
            #expect(Set(methods) == ["platform", "password:carol"])
            await guest.close()

            let again = try await connected(to: cluster, "us-east-2")
            let byTicket = try await again.platformLogin(platform: "test", ticket: try await mint.ticket(subject: "carol"))
            #expect(byTicket.playerID == login.playerID)
            #expect(byTicket.homeRegion == "us-east")
            await again.close()
        }
    }

    /// A session outlives its access token (15 minutes): after a disconnect the client's
    /// reconnect is refused with `badToken`, trades its refresh token on the same connection and
    /// is back as the same player — as a game that stayed open for an hour must be.
    @Test func reconnectAfterTheAccessTokenExpiredRefreshes() async throws {
        let skew = Mutex<TimeInterval>(0)
        let options = GameTestCluster.Options(devLogin: false, wallClock: { Date().addingTimeInterval(skew.withLock { $0 }) })
        try await GameTestCluster.with(gateways: true, options: options) { cluster in
            let client = try await connected(to: cluster, "eu-west-1")
            let login = try await client.deviceLogin(deviceID: "daves-phone", secret: Array(repeating: 7, count: 32), displayName: "Dave")
            #expect(!login.refreshToken.isEmpty)
            await client.close()

            skew.withLock { $0 = 16 * 60 }  // past the access token's 15 minutes
            let address = try #require(cluster.node("us-east-1")?.gateway?.address)
            let parts = address.split(separator: ":")
            let back = try await client.reconnect(host: String(parts[0]), port: Int(parts[1])!)
            #expect(back.playerID == login.playerID)
            #expect(back.token != login.token, "a new access token")
            #expect(!back.refreshToken.isEmpty && back.refreshToken != login.refreshToken, "the refresh token rotated")
            await client.close()
        }
    }
}
