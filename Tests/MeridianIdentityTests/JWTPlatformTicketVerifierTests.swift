import Foundation
import MeridianIdentity
import MeridianTestSupport
import Testing

/// Signed platform tickets: the verifier accepts its platform's tickets for this game and
/// refuses every forged, expired, altered, foreign or misdirected one with one answer.
@Suite("Platform tickets (JWT)")
struct JWTPlatformTicketVerifierTests {
    @Test func aValidTicketProvesItsSubjectWithItsIssuer() async throws {
        let mint = try await PlatformTicketMint()
        let verifier = try await mint.verifier()
        let ticket = try await mint.ticket(subject: "user-42", name: "Ada")
        let identity = try await verifier.verify(ticket, now: Date())
        #expect(identity == PlatformIdentity(platform: "test", subject: "https://id.test|user-42", displayName: "Ada"))
    }

    @Test func forgedExpiredAlteredForeignAndMisdirectedTicketsAreRefused() async throws {
        let mint = try await PlatformTicketMint()
        let verifier = try await mint.verifier()
        let impostor = try await PlatformTicketMint()  // same issuer and audience, another key
        let now = Date()
        let good = try await mint.ticket(subject: "user-42", now: now)
        let parts = good.split(separator: ".").map(String.init)
        // The payload of another subject under the good signature.
        let otherPayload = try await mint.ticket(subject: "user-43", now: now).split(separator: ".")[1]
        let tickets: [(String, String)] = [
            ("signed by another key", try await impostor.ticket(subject: "user-42", now: now)),
            ("expired a minute ago", try await mint.ticket(subject: "user-42", now: now, lifetime: -60)),
            ("for another game", try await mint.ticket(subject: "user-42", audience: "another-game", now: now)),
            ("from another issuer", try await mint.ticket(subject: "user-42", issuer: "https://evil.test", now: now)),
            ("with an altered payload", [parts[0], String(otherPayload), parts[2]].joined(separator: ".")),
            ("without a signature", parts[0] + "." + parts[1] + "."),
            ("garbage", "not a ticket"),
            ("oversized", String(repeating: "a", count: JWTPlatformTicketVerifier.maximumTicketBytes + 1)),
        ]
        for (what, ticket) in tickets {
            let error = await #expect(throws: IdentityRefusal.self, "a ticket \(what) was accepted") {
                _ = try await verifier.verify(ticket, now: now)
            }
            #expect(error?.code == .invalidCredentials, "\(what)")
        }
        // Within the leeway an expired ticket still passes; past it, not.
        let justExpired = try await mint.ticket(subject: "user-42", now: now, lifetime: -10)
        let accepted = try await verifier.verify(justExpired, now: now)
        #expect(accepted.subject == "https://id.test|user-42")
    }

    @Test func aKeySetThatIsNotOneIsRefusedAtConfiguration() async throws {
        await #expect(throws: IdentityRefusal.self) {
            _ = try await JWTPlatformTicketVerifier(platform: "x", jwks: "{\"keys\": 7}", issuer: "i", audience: "a")
        }
    }
}
