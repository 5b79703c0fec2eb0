import Foundation
import MeridianIdentity
import MeridianRegion
import MeridianStorage
import MeridianTestScope
import MeridianTestSupport
import MeridianWire
import SwiftProtobuf
import Testing
@testable import MeridianGateway

/// Logins through the identity layer, as a client sees them: every method, every refusal, and
/// the ways a client could try to be someone else.
@Suite("Gateway: identity", .serialized)
struct GatewayIdentityTests {
    static func connect(_ cluster: GameTestCluster, _ node: String) async throws -> RawClient {
        let client = try await RawClient.connect(try #require(cluster.node(node)?.gateway?.address))
        try await client.send(RawClient.message(1) { $0.hello.protocolVersion = 1 })
        let required1 = try await client.next(where: { $0.requestID == 1 })
        _ = try #require(required1)
        return client
    }

    /// Sends one request and returns its reply.
    static func request(_ client: RawClient, _ id: UInt64, _ fill: (inout Meridian_Client_V1_ClientMessage) -> Void) async throws -> Meridian_Client_V1_ServerMessage {
        try await client.send(RawClient.message(id, fill))
        let required2 = try await client.next(where: { $0.requestID == id })
        return try #require(required2)
    }

    /// Sends one request with `body` and returns its reply.
    static func request(_ client: RawClient, _ id: UInt64, _ body: Meridian_Client_V1_ClientMessage.OneOf_Body) async throws -> Meridian_Client_V1_ServerMessage {
        var message = Meridian_Client_V1_ClientMessage()
        message.requestID = id
        message.body = body
        try await client.send(message)
        let required3 = try await client.next(where: { $0.requestID == id })
        return try #require(required3)
    }

    static func password(_ username: String, _ password: String, create: Bool = false) -> (inout Meridian_Client_V1_ClientMessage) -> Void {
        { message in
            message.passwordLogin.username = username
            message.passwordLogin.password = password
            message.passwordLogin.create = create
        }
    }

    @Test func registerThenLogInWithAPasswordAnywhereWithOneGenericErrorForEveryWrongCredential() async throws {
        try await GameTestCluster.with(gateways: true, options: .init(devLogin: false)) { cluster in
            // Registered at a us-east gateway: the account's home is us-east, whatever the client wants.
            let us = try await Self.connect(cluster, "us-east-1")
            let created = try await Self.request(us, 2, Self.password("Alice", "correct horse", create: true))
            #expect(created.login.created)
            #expect(created.login.homeRegion == "us-east")
            #expect(!created.login.refreshToken.isEmpty)
            let profile = try await Self.request(us, 3) { $0.getProfile = .init() }
            #expect(profile.profile.homeRegion == "us-east")
            #expect(profile.profile.displayName == "alice")
            await us.close()

            let eu = try await Self.connect(cluster, "eu-west-2")
            // Taken username, wrong password, unknown user, malformed user: refused, connection stays open.
            #expect(try await Self.request(eu, 2, Self.password("alice", "another one", create: true)).error.code == .alreadyExists)
            let wrong = try await Self.request(eu, 3, Self.password("alice", "wrong horse"))
            let unknown = try await Self.request(eu, 4, Self.password("nobody", "wrong horse"))
            let malformed = try await Self.request(eu, 5, Self.password("no spaces allowed", "wrong horse"))
            #expect([wrong, unknown, malformed].map(\.error.code) == [.loginFailed, .loginFailed, .loginFailed])
            #expect(Set([wrong, unknown, malformed].map(\.error.message)).count == 1)
            #expect(!wrong.error.message.contains("wrong horse"))
            // Not logged in after any of it.
            let code1 = try await Self.request(eu, 6) { $0.getProfile = .init() }.error.code
            #expect(code1 == .notLoggedIn)
            let login = try await Self.request(eu, 7, Self.password("ALICE", "correct horse"))
            #expect(login.login.playerID == created.login.playerID)
            #expect(login.login.homeRegion == "us-east")
            #expect(!login.login.created)
            await eu.close()
        }
    }

    @Test func repeatedWrongPasswordsLockTheAccountOutWhileAnotherPlayerKeepsPlaying() async throws {
        try await GameTestCluster.with(gateways: true, options: .init(devLogin: false)) { cluster in
            let good = try await Self.connect(cluster, "eu-west-1")
            _ = try await Self.request(good, 2, Self.password("bob", "bob's password", create: true))
            let attacker = try await Self.connect(cluster, "eu-west-1")
            for attempt in 0..<5 {
                #expect(try await Self.request(attacker, UInt64(10 + attempt), Self.password("bob", "guess \(attempt)")).error.code == .loginFailed)
            }
            // Locked now, even with the right password, from any address.
            let locked = try await Self.request(attacker, 20, Self.password("bob", "bob's password"))
            #expect(locked.error.code == .lockedOut)
            // The logged-in client on the same gateway is not affected.
            let clientTimeUs2 = try await Self.request(good, 3) { $0.ping.clientTimeUs = 5 }.pong.clientTimeUs
            #expect(clientTimeUs2 == 5)
            let displayName3 = try await Self.request(good, 4) { $0.getProfile = .init() }.profile.displayName
            #expect(displayName3 == "bob")
            await attacker.close()
            await good.close()
        }
    }

    @Test func aDeviceAccountIsBoundToItsSecret() async throws {
        try await GameTestCluster.with(gateways: true, options: .init(devLogin: false)) { cluster in
            let secret = Data((0..<32).map { UInt8($0) })
            let first = try await Self.connect(cluster, "eu-west-1")
            let created = try await Self.request(first, 2) {
                $0.deviceLogin.deviceID = "device-1"
                $0.deviceLogin.deviceSecret = secret
            }
            #expect(created.login.created)
            #expect(created.login.homeRegion == "eu-west")
            await first.close()
            let again = try await Self.connect(cluster, "us-east-2")
            let other = try await Self.request(again, 2) {
                $0.deviceLogin.deviceID = "device-1"
                $0.deviceLogin.deviceSecret = Data(repeating: 7, count: 32)
            }
            #expect(other.error.code == .loginFailed)
            let short = try await Self.request(again, 3) {
                $0.deviceLogin.deviceID = "device-2"
                $0.deviceLogin.deviceSecret = Data([1, 2, 3])
            }
            #expect(short.error.code == .refused)
            let back = try await Self.request(again, 4) {
                $0.deviceLogin.deviceID = "device-1"
                $0.deviceLogin.deviceSecret = secret
            }
            #expect(back.login.playerID == created.login.playerID)
            #expect(!back.login.created)
            await again.close()
        }
    }

    /// Without `dev_login`, no client can choose its player id — so the old hijack (log in as a
    /// player in a match and take the match feed) is impossible.
    @Test func withoutDevLoginNoClientCanNameAPlayer() async throws {
        try await GameTestCluster.with(gateways: true, options: .init(devLogin: false)) { cluster in
            let victim = try await cluster.createAccount(home: "eu-west")
            let impostor = try await Self.connect(cluster, "eu-west-1")
            let refused = try await Self.request(impostor, 2) {
                $0.devLogin.playerID = victim.uuidString
                $0.devLogin.displayName = "me"
            }
            #expect(refused.error.code == .refused)
            #expect(refused.error.message.contains("development logins are disabled"))
            let code4 = try await Self.request(impostor, 3) { $0.getProfile = .init() }.error.code
            #expect(code4 == .notLoggedIn)
            await impostor.close()
        }
    }

    @Test func aRefreshTokenIsSingleUseAndItsReuseEndsTheLoginEverywhere() async throws {
        try await GameTestCluster.with(gateways: true, options: .init(devLogin: false)) { cluster in
            let first = try await Self.connect(cluster, "eu-west-1")
            let login = try await Self.request(first, 2, Self.password("carol", "carol's secret", create: true)).login
            let second = try await Self.connect(cluster, "us-east-1")
            let refreshed = try await Self.request(second, 2) { $0.refresh.refreshToken = login.refreshToken }.login
            #expect(refreshed.playerID == login.playerID)
            #expect(refreshed.refreshToken != login.refreshToken)
            // The first connection was replaced by the refreshed login of the same player.
            let replaced = try await first.drainUntilClosed()
            let value5 = replaced.contains { $0.error.code == .sessionReplaced }
            #expect(value5)

            // Someone replays the spent token: refused, and the whole login (the refreshed pair too) ends.
            let thief = try await Self.connect(cluster, "eu-west-2")
            let code6 = try await Self.request(thief, 2) { $0.refresh.refreshToken = login.refreshToken }.error.code
            #expect(code6 == .badToken)
            let ended = try await second.drainUntilClosed()
            let value7 = ended.contains { $0.error.code == .loggedOut }
            #expect(value7)
            let code8 = try await Self.request(thief, 3) { $0.refresh.refreshToken = refreshed.refreshToken }.error.code
            #expect(code8 == .badToken)
            let code9 = try await Self.request(thief, 4) { $0.resume.token = refreshed.token }.error.code
            #expect(code9 == .badToken)
            await thief.close()
        }
    }

    @Test func logoutEndsTheLoginAndItsTokens() async throws {
        try await GameTestCluster.with(gateways: true, options: .init(devLogin: false)) { cluster in
            let client = try await Self.connect(cluster, "eu-west-1")
            let login = try await Self.request(client, 2, Self.password("dave", "dave's secret", create: true)).login
            let body10 = try await Self.request(client, 3) { $0.logout = .init() }.body
            #expect(body10 == .loggedOut(.init()))
            _ = try await client.drainUntilClosed()
            let again = try await Self.connect(cluster, "us-east-2")
            let code11 = try await Self.request(again, 2) { $0.resume.token = login.token }.error.code
            #expect(code11 == .badToken)
            let code12 = try await Self.request(again, 3) { $0.refresh.refreshToken = login.refreshToken }.error.code
            #expect(code12 == .badToken)
            await again.close()
        }
    }

    /// A ban closes the player's live session in another region, and the player cannot log in again.
    @Test func aBanClosesTheLiveSessionInAnotherRegion() async throws {
        try await GameTestCluster.with(gateways: true, options: .init(devLogin: false)) { cluster in
            let client = try await Self.connect(cluster, "us-east-2")
            let login = try await Self.request(client, 2, Self.password("eve", "eve's secret", create: true)).login
            let player = try #require(UUID(uuidString: login.playerID))
            _ = try await cluster.node("eu-west-1")!.identity.setBanned(player: player, banned: true)
            let closing = try await client.drainUntilClosed(timeout: .seconds(10))
            let value13 = closing.contains { $0.error.code == .banned }
            #expect(value13)
            let again = try await Self.connect(cluster, "us-east-1")
            try await again.send(RawClient.message(2, Self.password("eve", "eve's secret")))
            let value14 = try await again.drainUntilClosed().contains { $0.error.code == .banned }
            #expect(value14)
            await again.close()
        }
    }

    /// Party members' homes come from the directory; an id nobody owns is refused before anything is queued.
    @Test func aPartyWithAMemberWhoDoesNotExistIsRefused() async throws {
        try await GameTestCluster.with(gateways: true) { cluster in
            let client = try await RawClient.connect(try #require(cluster.node("eu-west-1")?.gateway?.address))
            _ = try await client.logIn(UUID())
            let refused = try await Self.request(client, 10) {
                $0.queue.party = [UUID().uuidString]
                $0.queue.region = "eu-west"
            }
            #expect(refused.error.code == .refused)
            let queued15 = try await Self.request(client, 11) { $0.cancelQueue = .init() }.queueStatus.queued
            #expect(queued15 == false)
            await client.close()
        }
    }

    /// A connected player whose home moves (an operator's transfer) is told by a push and stays
    /// connected, now routed to the new home — no new login; a later resume with the same token
    /// is routed there too, with everything the player had.
    @Test func aConnectedPlayerWhoseHomeMovesIsToldAndFollowsItWithoutANewLogin() async throws {
        try await GameTestCluster.with(gateways: true, options: .init(devLogin: false)) { cluster in
            let client = try await Self.connect(cluster, "eu-west-1")
            let login = try await Self.request(client, 2, Self.password("wanderer", "a long password", create: true)).login
            #expect(login.homeRegion == "eu-west")
            let player = try #require(UUID(uuidString: login.playerID))
            _ = try await cluster.home(of: player, region: "eu-west").grant(item: "gold", count: 12, idempotencyKey: "welcome")

            let moved = try await cluster.all[0].identity.transfer(player: player, to: "us-east")
            #expect(moved.step == .done, "\(moved)")
            let toldFound = try await client.next(where: { if case .homeChanged? = $0.body { true } else { false } })
            let told = try #require(toldFound)
            #expect(told.requestID == 0)
            #expect(told.homeChanged.homeRegion == "us-east")
            #expect(told.homeChanged.epoch == UInt64(moved.toEpoch.rawValue))
            let profile = try await Self.request(client, 3) { $0.getProfile = .init() }.profile
            #expect(profile.homeRegion == "us-east" && profile.balances == ["gold": 12], "\(profile)")

            let again = try await Self.connect(cluster, "eu-west-2")
            let resumed = try await Self.request(again, 2) { $0.resume.token = login.token }
            #expect(resumed.login.playerID == login.playerID)
            #expect(resumed.login.homeRegion == "us-east")
            await again.close()
            await client.close()
        }
    }

    /// A player moves its own home to the region it plays in: only while idle, only to another
    /// region of the topology, and once per cool-down; the connection stays and its data follows.
    @Test func aPlayerMovesItsOwnHomeOncePerCooldown() async throws {
        // No closure literal inside #expect here: the compiler can give a closure in a macro
        // argument the same name as one outside it, and then call the wrong one (seen with Swift 6.x).
        try await GameTestCluster.with(gateways: true, options: .init(devLogin: false)) { cluster in
            let client = try await Self.connect(cluster, "us-east-1")
            let login = try await Self.request(client, 2, Self.password("nomad", "a long password", create: true)).login
            #expect(login.homeRegion == "us-east")
            let player = try #require(UUID(uuidString: login.playerID))
            _ = try await cluster.home(of: player, region: "us-east").grant(item: "gold", count: 7, idempotencyKey: "welcome")

            let home = try await Self.request(client, 3, .moveHome(.with { $0.region = "us-east" }))
            #expect(home.error.code == .refused, "\(home)")
            let nowhere = try await Self.request(client, 4, .moveHome(.with { $0.region = "mars-north" }))
            #expect(nowhere.error.code == .refused, "\(nowhere)")
            // Not while queued.
            let queue = try await Self.request(client, 5, .queue(.with { $0.region = "us-east" }))
            #expect(queue.queueStatus.queued, "\(queue)")
            let queued = try await Self.request(client, 6, .moveHome(.with { $0.region = "eu-west" }))
            #expect(queued.error.code == .refused && queued.error.message.contains("queue"), "\(queued)")
            let cancelled = try await Self.request(client, 7, .cancelQueue(.init()))
            #expect(cancelled.queueStatus.queued == false, "\(cancelled)")

            let moved = try await Self.request(client, 8, .moveHome(.with { $0.region = "eu-west" }))
            #expect(moved.homeChanged.homeRegion == "eu-west", "\(moved)")
            let profile = try await Self.request(client, 9, .getProfile(.init()))
            #expect(profile.profile.homeRegion == "eu-west" && profile.profile.balances == ["gold": 7], "\(profile)")
            let entry = try await cluster.all[0].identity.entry(of: player)
            #expect(entry?.homeRegion == "eu-west")

            let tooSoon = try await Self.request(client, 10, .moveHome(.with { $0.region = "us-east" }))
            #expect(tooSoon.error.code == .refused && tooSoon.error.message.contains("move again after"), "\(tooSoon)")
            let still = try await cluster.all[0].identity.entry(of: player)
            #expect(still?.homeRegion == "eu-west")
            await client.close()
        }
    }

    /// Platform tickets log players in (the first one creates the account at this gateway's
    /// region); a guest upgrades by linking a platform and a password, and logs in with either
    /// afterwards; a method linked elsewhere is refused; the last method cannot be unlinked.
    @Test func platformTicketsLogInAndMethodsLinkAndUnlink() async throws {
        let mint = try await PlatformTicketMint()
        let verifier = try await mint.verifier(platform: "test")
        let options = GameTestCluster.Options(devLogin: false, identity: { $0.platforms = [verifier] })
        try await GameTestCluster.with(gateways: true, options: options) { cluster in
            func platformLogin(_ client: RawClient, _ id: UInt64, ticket: String) async throws -> Meridian_Client_V1_ServerMessage {
                try await Self.request(client, id, .platformLogin(.with {
                    $0.platform = "test"
                    $0.ticket = ticket
                }))
            }
            // Alice: her first ticket makes her account, in eu-west; a later one finds it.
            let first = try await Self.connect(cluster, "eu-west-1")
            let aliceTicket = try await mint.ticket(subject: "alice", name: "Alice")
            let created = try await platformLogin(first, 2, ticket: aliceTicket)
            #expect(created.login.created && created.login.homeRegion == "eu-west" && created.login.displayName == "Alice", "\(created)")
            await first.close()
            let again = try await Self.connect(cluster, "us-east-1")
            let secondTicket = try await mint.ticket(subject: "alice")
            let found = try await platformLogin(again, 2, ticket: secondTicket)
            #expect(!found.login.created && found.login.playerID == created.login.playerID, "\(found)")
            await again.close()

            // A forged ticket (another key) gets the generic login failure.
            let forger = try await PlatformTicketMint()
            let forgedTicket = try await forger.ticket(subject: "alice")
            let forgedClient = try await Self.connect(cluster, "eu-west-1")
            let forged = try await platformLogin(forgedClient, 2, ticket: forgedTicket)
            #expect(forged.error.code == .loginFailed, "\(forged)")
            await forgedClient.close()

            // Bob starts as a guest, then links a platform identity and a password.
            let bob = try await Self.connect(cluster, "us-east-1")
            let guest = try await Self.request(bob, 2, .deviceLogin(.with {
                $0.deviceID = "bobs-phone"
                $0.deviceSecret = Data(repeating: 7, count: 32)
            }))
            #expect(guest.login.created, "\(guest)")
            let bobTicket = try await mint.ticket(subject: "bob")
            let linked = try await Self.request(bob, 3, .linkMethod(.with { $0.platform = .with {
                $0.platform = "test"
                $0.ticket = bobTicket
            } }))
            #expect(Set(linked.methods.methods.map(\.kind)) == ["device", "platform"], "\(linked)")
            let taken = try await Self.request(bob, 4, .linkMethod(.with { $0.platform = .with {
                $0.platform = "test"
                $0.ticket = secondTicket
            } }))
            #expect(taken.error.code == .alreadyExists, "alice's platform identity is hers: \(taken)")
            let withPassword = try await Self.request(bob, 5, .linkMethod(.with { $0.password = .with {
                $0.username = "Bobby"
                $0.password = "a long password"
            } }))
            let kinds = withPassword.methods.methods.map { "\($0.kind):\($0.subject)" }.sorted()
            #expect(kinds == ["device:", "password:bobby", "platform:"], "\(withPassword)")

            // Bob logs in with his password now: the same player (his guest connection is replaced).
            await bob.close()
            let byPassword = try await Self.connect(cluster, "eu-west-2")
            let passwordLogin = try await Self.request(byPassword, 2, Self.password("bobby", "a long password"))
            #expect(passwordLogin.login.playerID == guest.login.playerID, "\(passwordLogin)")

            // Unlinking down to one method; the last one stays.
            let noDevice = try await Self.request(byPassword, 6, .unlinkMethod(.with { $0.kind = "device" }))
            #expect(noDevice.methods.methods.count == 2, "\(noDevice)")
            let noPlatform = try await Self.request(byPassword, 7, .unlinkMethod(.with { $0.kind = "platform" }))
            #expect(noPlatform.methods.methods.map(\.kind) == ["password"], "\(noPlatform)")
            let last = try await Self.request(byPassword, 8, .unlinkMethod(.with { $0.kind = "password" }))
            #expect(last.error.code == .refused, "\(last)")
            await byPassword.close()
            let deviceGone = try await Self.connect(cluster, "us-east-1")
            let oldDevice = try await Self.request(deviceGone, 2, .deviceLogin(.with {
                $0.deviceID = "bobs-phone"
                $0.deviceSecret = Data(repeating: 7, count: 32)
            }))
            #expect(oldDevice.login.playerID != guest.login.playerID, "an unlinked device is no way into the account")
            await deviceGone.close()
        }
    }
}
