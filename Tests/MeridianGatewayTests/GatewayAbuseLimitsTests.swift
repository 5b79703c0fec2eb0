import Foundation
import MeridianClock
import MeridianGateway
import MeridianTestSupport
import MeridianWire
import Testing

/// Abuse limits at a real gateway: each refuses with its error code while a well-behaved client
/// on the same gateway keeps being served.
@Suite("Gateway: abuse limits", .serialized)
struct GatewayAbuseLimitsTests {
    static func errors(_ messages: [Meridian_Client_V1_ServerMessage]) -> [Meridian_Client_V1_Error.Code] {
        messages.compactMap { message in if case .error(let error)? = message.body { error.code } else { nil } }
    }

    static func ping(_ client: RawClient, _ id: UInt64) async throws -> Bool {
        try await client.send(RawClient.message(id) { $0.ping.clientTimeUs = id })
        return try await client.next(where: { $0.requestID == id })?.pong.clientTimeUs == id
    }

    @Test func connectionsFromOneAddressAreCapped() async throws {
        var configuration = GatewayConfiguration()
        configuration.maximumConnectionsPerSource = 3
        try await GameTestCluster.with(gateways: true, gatewayConfiguration: configuration) { cluster in
            let address = try #require(cluster.node("eu-west-1")?.gateway?.address)
            var held: [RawClient] = []
            for _ in 0..<3 {
                let client = try await RawClient.connect(address)
                _ = try await client.logIn(UUID())
                held.append(client)
            }
            let fourth = try await RawClient.connect(address)
            #expect(Self.errors(try await fourth.drainUntilClosed()) == [.rateLimited], "the fourth connection from 127.0.0.1")
            #expect(try await Self.ping(held[0], 50), "the held connections are served")

            // A slot comes back when a connection ends.
            await held.removeLast().close()
            let again = try await cluster.eventuallyValue("a slot is free again") { () -> RawClient? in
                let client = try await RawClient.connect(address)
                do {
                    _ = try await client.logIn(UUID())
                    return client
                } catch {
                    await client.close()
                    return nil
                }
            }
            #expect(try await Self.ping(again, 51))
            for client in held + [again] { await client.close() }
        }
    }

    @Test func loginsFromOneAddressAreRateLimited() async throws {
        var configuration = GatewayConfiguration()
        configuration.loginsPerSourcePerMinute = 3
        try await GameTestCluster.with(gateways: true, gatewayConfiguration: configuration) { cluster in
            let address = try #require(cluster.node("eu-west-1")?.gateway?.address)
            let player = try await RawClient.connect(address)
            _ = try await player.logIn(UUID())  // login 1
            let guesser = try await RawClient.connect(address)
            try await guesser.send(RawClient.message(1) { $0.hello.protocolVersion = 1 })
            for attempt in 0..<2 {  // logins 2 and 3: wrong passwords, refused but counted
                try await guesser.send(RawClient.message(UInt64(10 + attempt)) {
                    $0.passwordLogin.username = "nobody"
                    $0.passwordLogin.password = "guess number \(attempt)"
                })
                let code1 = try await guesser.next(where: { $0.requestID == UInt64(10 + attempt) })?.error.code
                #expect(code1 == .loginFailed)
            }
            try await guesser.send(RawClient.message(20) {
                $0.passwordLogin.username = "nobody"
                $0.passwordLogin.password = "guess number 3"
            })
            #expect(Self.errors(try await guesser.drainUntilClosed()).last == .rateLimited)
            #expect(try await Self.ping(player, 60), "the logged-in player is not affected")
            await player.close()
        }
    }

    @Test func frameLimitIsSizedForClientMessages() async throws {
        try await GameTestCluster.with(gateways: true) { cluster in
            let address = try #require(cluster.node("eu-west-1")?.gateway?.address)
            let client = try await RawClient.connect(address)
            try await client.send(RawClient.message(1) { $0.hello.protocolVersion = 1 })
            let maxFrameBytes2 = try await client.next(where: { $0.requestID == 1 })?.welcome.maxFrameBytes
            #expect(maxFrameBytes2 == UInt32(8 * 1024))
            // A 9 KiB frame is refused by its length prefix alone.
            try await client.sendRaw([0, 0, 0x24, 0] + Array(repeating: 0, count: 16))
            #expect(Self.errors(try await client.drainUntilClosed()) == [.frameTooLarge])
        }
    }

    @Test func queueingRightAfterCancellingWaitsForTheCooldown() async throws {
        let clock = ManualClock()
        try await GameTestCluster.with(gateways: true, options: .init(clock: clock)) { cluster in
            let address = try #require(cluster.node("eu-west-1")?.gateway?.address)
            let client = try await RawClient.connect(address)
            _ = try await client.logIn(UUID())
            try await client.send(RawClient.message(3) { $0.queue = .init() })
            let queued3 = try await client.next(where: { $0.requestID == 3 })?.queueStatus.queued
            #expect(queued3 == true)
            try await client.send(RawClient.message(4) { $0.cancelQueue = .init() })
            let queued4 = try await client.next(where: { $0.requestID == 4 })?.queueStatus.queued
            #expect(queued4 == false)
            try await client.send(RawClient.message(5) { $0.queue = .init() })
            let refused = try await client.next(where: { $0.requestID == 5 })
            #expect(refused?.error.code == .refused && refused?.error.message.contains("cancelled a moment ago") == true, "\(String(describing: refused))")
            clock.advance(by: .seconds(1))
            try await client.send(RawClient.message(6) { $0.queue = .init() })
            let queued5 = try await client.next(where: { $0.requestID == 6 })?.queueStatus.queued
            #expect(queued5 == true)
            await client.close()
        }
    }
}
