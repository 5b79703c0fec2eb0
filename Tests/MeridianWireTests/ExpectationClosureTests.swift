import Foundation
import Testing

/// Guards the test suite against a Swift 6.3 miscompile: inside a closure (every test that runs
/// in `GameTestCluster.with { … }` is), a closure literal written in the condition of `#expect(…)`
/// or `#require(…)` can get the same name as a later closure of the same type outside the macro,
/// and then that later closure runs the macro's body instead of its own. Seen here: a test sent
/// `GetProfile` and the gateway received the `MoveHome` of an earlier `#expect`; a `PartyInvite`
/// went out as a `PartyAccept`. Such a test can pass while checking something else.
///
/// The rule: compute the value outside the macro (`let reply = try await request { … }`) and
/// expect on it (`#expect(reply.queued)`). A macro's own trailing closure
/// (`#expect(throws: E.self) { … }`) and closures in its message are not affected.
@Suite struct ExpectationClosureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func noClosureLiteralInTheConditionOfAnExpectation() throws {
        let tests = Self.root.appendingPathComponent("Tests")
        let files = try #require(FileManager.default.enumerator(atPath: tests.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(files.count > 50, "found \(files.count) test sources under \(tests.path)")
        var findings: [String] = []
        for file in files.sorted() {
            let source = try String(contentsOf: tests.appendingPathComponent(file), encoding: .utf8)
            for line in Self.closuresInConditions(Array(source.utf8)) { findings.append("Tests/\(file):\(line)") }
        }
        #expect(findings.isEmpty, "closure literal in an expectation's condition (compute it before the macro): \(findings.joined(separator: ", "))")
    }

    @Test func theScannerFindsWhatItMust() {
        let flagged = """
        #expect(xs.contains { $0 > 1 })
        let x = try #require(await next(where: { $0.ok }), "msg")
        """
        let allowed = """
        #expect(throws: E.self) { try run() }
        #expect(value == 3, "\\(xs.map { $0 })")
        #expect(text == "{ not a closure }")
        #require(found)
        """
        #expect(Self.closuresInConditions(Array(flagged.utf8)) == [1, 2])
        #expect(Self.closuresInConditions(Array(allowed.utf8)).isEmpty)
    }

    /// Lines of `source` where an `#expect(`/`#require(` condition (its first argument) holds a `{`
    /// outside string literals.
    static func closuresInConditions(_ source: [UInt8]) -> [Int] {
        var lines: [Int] = []
        var index = 0
        var line = 1
        while index < source.count {
            switch source[index] {
            case UInt8(ascii: "\n"):
                line += 1
            case UInt8(ascii: "\""):
                // Text in string literals is not code (this file's own samples are in one).
                let end = endOfString(source, at: index)
                line += source[index..<end].lazy.filter { $0 == UInt8(ascii: "\n") }.count
                index = end
                continue
            case UInt8(ascii: "/") where starts(source, at: index, with: "//"):
                while index < source.count, source[index] != UInt8(ascii: "\n") { index += 1 }
                continue
            case UInt8(ascii: "#"):
                if let open = macroArguments(source, at: index), !starts(source, at: skipSpaces(source, open), with: "throws:"),
                   conditionHasBrace(source, from: open) {
                    lines.append(line)
                }
            default:
                break
            }
            index += 1
        }
        return lines
    }

    /// The index after `#expect(` or `#require(` at `index`, or nil.
    static func macroArguments(_ source: [UInt8], at index: Int) -> Int? {
        for name in ["#expect(", "#require("] where starts(source, at: index, with: name) { return index + name.utf8.count }
        return nil
    }

    /// Whether the first argument from `start` (up to a top-level `,` or the closing `)`) holds a `{`.
    static func conditionHasBrace(_ source: [UInt8], from start: Int) -> Bool {
        var index = start
        var depth = 0
        while index < source.count {
            let byte = source[index]
            if byte == UInt8(ascii: "\"") {
                index = endOfString(source, at: index)
                continue
            }
            switch byte {
            case UInt8(ascii: "{"): return true
            case UInt8(ascii: "("), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"):
                if depth == 0 { return false }
                depth -= 1
            case UInt8(ascii: ",") where depth == 0: return false
            default: break
            }
            index += 1
        }
        return false
    }

    /// The index after the string literal opening at `index` (interpolations and escapes skipped).
    static func endOfString(_ source: [UInt8], at index: Int) -> Int {
        let multiline = starts(source, at: index, with: "\"\"\"")
        var cursor = index + (multiline ? 3 : 1)
        while cursor < source.count {
            if source[cursor] == UInt8(ascii: "\\") {
                if cursor + 1 < source.count, source[cursor + 1] == UInt8(ascii: "(") {
                    cursor = skipBalanced(source, from: cursor + 2)
                } else {
                    cursor += 2
                }
                continue
            }
            if multiline ? starts(source, at: cursor, with: "\"\"\"") : source[cursor] == UInt8(ascii: "\"") {
                return cursor + (multiline ? 3 : 1)
            }
            cursor += 1
        }
        return cursor
    }

    /// The index after the `)` closing an interpolation whose contents start at `start`.
    static func skipBalanced(_ source: [UInt8], from start: Int) -> Int {
        var cursor = start
        var depth = 1
        while cursor < source.count, depth > 0 {
            switch source[cursor] {
            case UInt8(ascii: "\""): cursor = endOfString(source, at: cursor) - 1
            case UInt8(ascii: "("): depth += 1
            case UInt8(ascii: ")"): depth -= 1
            default: break
            }
            cursor += 1
        }
        return cursor
    }

    static func skipSpaces(_ source: [UInt8], _ index: Int) -> Int {
        var cursor = index
        while cursor < source.count, source[cursor] == UInt8(ascii: " ") || source[cursor] == UInt8(ascii: "\n") { cursor += 1 }
        return cursor
    }

    static func starts(_ source: [UInt8], at index: Int, with prefix: String) -> Bool {
        let bytes = Array(prefix.utf8)
        guard index + bytes.count <= source.count else { return false }
        return Array(source[index..<index + bytes.count]) == bytes
    }
}
