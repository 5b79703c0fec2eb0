import Crypto
import Foundation
import Testing

/// Fails when a `.proto` file changed and `scripts/gen-protos` was not run: every generated
/// file records the SHA-256 of the `.proto` it was made from.
@Suite struct GeneratedCodeIsCurrentTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var protos: [String] {
        let directory = root.appendingPathComponent("Protos")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".proto") }.sorted()
    }

    @Test func everyProtoHasGeneratedCode() {
        #expect(!Self.protos.isEmpty)
    }

    @Test(arguments: protos)
    func generatedCodeMatchesProto(_ name: String) throws {
        let proto = try Data(contentsOf: Self.root.appendingPathComponent("Protos/\(name)"))
        let expected = SHA256.hash(data: proto).map { String(format: "%02x", $0) }.joined()
        let generatedPath = Self.root.appendingPathComponent("Sources/MeridianWire/\(name.replacingOccurrences(of: ".proto", with: ".pb.swift"))")
        let generated = try String(contentsOf: generatedPath, encoding: .utf8)
        let recorded = generated.split(separator: "\n").first { $0.hasPrefix("// proto-sha256: ") }?.dropFirst("// proto-sha256: ".count)
        #expect(recorded.map(String.init) == expected, "Protos/\(name) changed: run scripts/gen-protos and commit the result")
    }
}
