import Foundation
import Logging
import MeridianAdmin
import Testing

@Suite("Admin tokens file and audit log")
struct AdminTokensTests {
    @Test("a file of name, role and SHA-256 lines; a token finds its holder, another token nobody")
    func parseAndLookUp() throws {
        let alice = AdminTokens.generate()
        let bob = AdminTokens.generate()
        #expect(alice.hasPrefix("mrd_"))
        #expect(alice != bob)
        let text = """
            # the cluster's admins
            \(AdminTokens.Entry(name: "alice", role: .operator, token: alice).line)

            \(AdminTokens.Entry(name: "grafana", role: .viewer, token: bob).line)   # scrapes
            """
        let tokens = try AdminTokens.parse(text, file: "tokens")
        #expect(tokens.principal(for: alice) == AdminPrincipal(name: "alice", role: .operator))
        #expect(tokens.principal(for: bob) == AdminPrincipal(name: "grafana", role: .viewer))
        #expect(tokens.principal(for: "mrd_nobody") == nil)
        #expect(tokens.principal(for: "") == nil)
        #expect(AdminTokens.none.principal(for: alice) == nil)
        // One rule for every door: a role at least the one asked for.
        #expect(tokens.authorize(alice, as: .operator) == .granted(AdminPrincipal(name: "alice", role: .operator)))
        #expect(tokens.authorize(alice, as: .viewer) == .granted(AdminPrincipal(name: "alice", role: .operator)))
        #expect(tokens.authorize(bob, as: .operator) == .insufficientRole(AdminPrincipal(name: "grafana", role: .viewer)))
        #expect(tokens.authorize("mrd_nobody", as: .viewer) == .unknownToken)
        #expect(!text.contains(alice))  // the file holds hashes only
    }

    @Test("a bad line is reported with its file and line number", arguments: [
        ("alice operator", "tokens:1: expected `name role sha256-hex`, found 2 field(s)"),
        ("alice root \(String(repeating: "ab", count: 32))", "tokens:1: role 'root' is not one of viewer, operator"),
        ("alice viewer mrd_plaintext", "tokens:1: the third field must be the token's SHA-256 as 64 hex digits (not the token itself)"),
        ("a viewer \(String(repeating: "ab", count: 32))\na operator \(String(repeating: "cd", count: 32))", "tokens:2: name 'a' is already given at line 1; each holder has one name, for the audit log"),
    ])
    func badLines(text: String, message: String) {
        #expect(throws: AdminTokensError.self) { try AdminTokens.parse(text, file: "tokens") }
        do {
            _ = try AdminTokens.parse(text, file: "tokens")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test("a missing file says so")
    func missingFile() {
        #expect(throws: AdminTokensError.self) { try AdminTokens.load(path: "/nonexistent/meridian-tokens") }
    }

    @Test("the audit log appends one JSON line per action to its file, owner-only, and keeps the latest in memory")
    func auditFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("node.audit.log").path
        let log = AuditLog(path: path, node: "eu-west-1", now: { Date(timeIntervalSince1970: 1_800_000_000) }, logger: .init(label: "test"))
        let alice = AdminPrincipal(name: "alice", role: .operator)
        await log.record(alice, action: "account.ban", target: "p1", result: "ok")
        await log.record(alice, action: "player.grant", target: "p2", result: "refused: unknown item")
        await log.close()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first == #"{"action":"account.ban","node":"eu-west-1","result":"ok","role":"operator","target":"p1","timeMs":1800000000000,"who":"alice"}"#)
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        #expect(await log.entries().map(\.target) == ["p1", "p2"])

        // A second log on the same file appends (a restarted node).
        let again = AuditLog(path: path, node: "eu-west-1", logger: .init(label: "test"))
        await again.record(alice, action: "catalog.publish", target: "v3", result: "ok")
        await again.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 3)
    }
}
