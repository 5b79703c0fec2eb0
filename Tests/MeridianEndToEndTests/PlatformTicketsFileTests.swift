import Foundation
import Testing

/// `meridian bootstrap --platform-tickets FILE`: a file the node cannot use is the operator's
/// mistake — exit 1 naming the file and what is wrong, before the node starts.
@Suite("bootstrap --platform-tickets")
struct PlatformTicketsFileTests {
    func bootstrap(with file: URL) throws -> (status: Int32, output: String) {
        let topology = Meridian.packageRoot.appendingPathComponent("Topology/local.yaml").path
        return try Meridian.run(["bootstrap", "--topology", topology, "--node", "eu-west-1", "--platform-tickets", file.path], withErrors: true)
    }

    @Test func aMissingMalformedOrKeylessFileExitsOneWithItsReason() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-platforms-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let missing = try bootstrap(with: directory.appendingPathComponent("nowhere.yaml"))
        #expect(missing.status == 1 && missing.output.contains("nowhere.yaml"), "\(missing.output)")

        let malformed = directory.appendingPathComponent("malformed.yaml")
        try "platform: oidc\n".write(to: malformed, atomically: true, encoding: .utf8)
        let notAList = try bootstrap(with: malformed)
        #expect(notAList.status == 1 && notAList.output.contains("not a list of platforms"), "\(notAList.output)")

        let keyless = directory.appendingPathComponent("keyless.yaml")
        try "- { platform: oidc, issuer: https://id.test, audience: game, jwks_file: keys.json }\n".write(to: keyless, atomically: true, encoding: .utf8)
        let noKeys = try bootstrap(with: keyless)
        #expect(noKeys.status == 1 && noKeys.output.contains("keys.json"), "\(noKeys.output)")

        try #"{"keys": 7}"#.write(to: directory.appendingPathComponent("keys.json"), atomically: true, encoding: .utf8)
        let badKeys = try bootstrap(with: keyless)
        #expect(badKeys.status == 1 && badKeys.output.contains("key set of platform oidc"), "\(badKeys.output)")
    }
}
