import Foundation
import Testing
@testable import MeridianGateway

/// The client connection's protocol state machine, event by event: no sockets, no cluster.
@Suite("Client connection state machine")
struct ClientConnectionStateTests {
    static let version: UInt32 = 1
    let alice = UUID()
    let bob = UUID()

    /// The refusal of `message`, if refused.
    func refusal(_ state: inout ClientConnectionState, _ message: ClientConnectionState.Message) -> GatewayError.Code? {
        do {
            _ = try state.receive(message, protocolVersion: Self.version)
            return nil
        } catch {
            return error.code
        }
    }

    /// The refusal of a login that proved `player`, if refused.
    func loginRefusal(_ state: inout ClientConnectionState, _ player: UUID) -> GatewayError.Code? {
        do {
            try state.loginSucceeded(player: player)
            return nil
        } catch {
            return error.code
        }
    }

    /// A connection logged in as `player`.
    func ready(_ player: UUID) throws -> ClientConnectionState {
        var state = ClientConnectionState()
        _ = try state.receive(.hello(version: 1), protocolVersion: Self.version)
        _ = try state.receive(.login, protocolVersion: Self.version)
        try state.loginSucceeded(player: player)
        return state
    }

    @Test func helloLoginRequestsInOrder() throws {
        var state = ClientConnectionState()
        let beforeHello = refusal(&state, .request)
        #expect(beforeHello == .malformed, "the first message must be Hello")
        let newer = refusal(&state, .hello(version: 2))
        #expect(newer == .unsupportedVersion)
        #expect(state.stage == .awaitingHello, "a refusal changes nothing")
        let welcome = try state.receive(.hello(version: 1), protocolVersion: Self.version)
        #expect(welcome == .welcome)
        let secondHello = refusal(&state, .hello(version: 1))
        #expect(secondHello == .malformed)
        let ping = try state.receive(.anytime, protocolVersion: Self.version)
        #expect(ping == .serve, "ping and locate before a login")
        let early = refusal(&state, .request)
        #expect(early == .notLoggedIn)

        let login = try state.receive(.login, protocolVersion: Self.version)
        #expect(login == .serve)
        #expect(state.stage == .authenticating)
        #expect(!state.isLoggedIn, "logged in only once the login fully succeeded")
        let during = refusal(&state, .request)
        #expect(during == .notLoggedIn)
        let secondLogin = refusal(&state, .login)
        #expect(secondLogin == .refused, "one login at a time")
        try state.loginSucceeded(player: alice)
        #expect(state.stage == .ready(player: alice))
        let request = try state.receive(.request, protocolVersion: Self.version)
        #expect(request == .serve)
        let another = refusal(&state, .login)
        #expect(another == .refused, "a second account needs a new connection")
    }

    @Test func aFailedLoginLeavesTheConnectionAsBefore() throws {
        var state = ClientConnectionState()
        _ = try state.receive(.hello(version: 1), protocolVersion: Self.version)
        _ = try state.receive(.login, protocolVersion: Self.version)
        state.loginFailed()
        #expect(state.stage == .awaitingLogin)
        _ = try state.receive(.renewal, protocolVersion: Self.version)  // a Resume may log a fresh connection in
        try state.loginSucceeded(player: alice)
        #expect(state.player == alice)
    }

    @Test func aRenewalKeepsServingAndMayOnlyProveTheSamePlayer() throws {
        var state = try ready(alice)
        _ = try state.receive(.renewal, protocolVersion: Self.version)
        #expect(state.stage == .reauthenticating(player: alice))
        #expect(state.isLoggedIn)
        let request = try state.receive(.request, protocolVersion: Self.version)
        #expect(request == .serve, "inputs and requests go on while tokens renew")
        let twice = refusal(&state, .renewal)
        #expect(twice == .refused)
        let otherPlayer = loginRefusal(&state, bob)
        #expect(otherPlayer == .refused, "a token of another player")
        #expect(state.stage == .ready(player: alice))

        _ = try state.receive(.renewal, protocolVersion: Self.version)
        state.loginFailed()
        #expect(state.stage == .ready(player: alice), "a failed renewal keeps the login")
        let stray = loginRefusal(&state, alice)
        #expect(stray == .refused, "no login under way")
    }

    @Test func closingAndTheClientsOwnLogout() throws {
        var fresh = ClientConnectionState()
        #expect(throws: GatewayError.self) { try fresh.logoutStarted() }
        var state = try ready(alice)
        try state.logoutStarted()
        let ownRevocation = state.close(GatewayError(.loggedOut, "revoked"))
        #expect(!ownRevocation, "the revocation of our own logout waits for the reply")
        let ban = state.close(GatewayError(.banned, "banned"))
        #expect(ban)
        #expect(state.stage == .closing(.banned))
        let afterClose = refusal(&state, .request)
        #expect(afterClose == .refused)
        #expect(!state.wasReplaced)
        let replaced = state.close(GatewayError(.sessionReplaced, "newer login"))
        #expect(replaced)
        #expect(state.wasReplaced, "a replacement is remembered over an earlier reason")
    }
}
