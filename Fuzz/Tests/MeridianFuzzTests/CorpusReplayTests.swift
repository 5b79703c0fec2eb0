import Foundation
import MeridianFuzzTargets
import Testing

/// The committed seed corpora (Fuzz/Corpus/TARGET/), replayed through their targets in the
/// ordinary build: every input that once crashed a target stays a regression test, and the
/// targets themselves stay in step with the code they drive.
@Suite("Fuzz corpora")
struct CorpusReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Corpus")

    @Test("every committed input of a target runs through it", arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) throws {
        let folder = Self.corpus.appendingPathComponent(target.rawValue)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(!names.isEmpty, "Fuzz/Corpus/\(target.rawValue) has no inputs")
        for name in names {
            target.run([UInt8](try Data(contentsOf: folder.appendingPathComponent(name))))
        }
    }
}
