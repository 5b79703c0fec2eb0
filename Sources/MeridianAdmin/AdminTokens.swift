import Crypto
import Foundation

/// What an admin token lets its holder do.
public enum AdminRole: String, Sendable, Hashable, CaseIterable, Comparable, Codable {
    /// Reads: the console, the JSON API, `/metrics`.
    case viewer
    /// Reads and acts: catalog publishes, grants, bans, transfers, topology changes.
    case `operator`

    public static func < (lhs: AdminRole, rhs: AdminRole) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Who presented a valid admin token: the name its entry gives and its role.
public struct AdminPrincipal: Sendable, Hashable, Codable {
    public var name: String
    public var role: AdminRole

    public init(name: String, role: AdminRole) {
        self.name = name
        self.role = role
    }
}

/// The admin tokens a node accepts, kept as SHA-256 digests: the file that lists them (one per
/// line, `name role sha256-hex`) can be read by whoever deploys the node without giving away a
/// token. `meridian admin token` makes a token and its line.
///
/// ```text
/// # name      role      sha256 of the token
/// alice       operator  9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
/// grafana     viewer    60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752
/// ```
public struct AdminTokens: Sendable {
    public struct Entry: Sendable, Hashable {
        public var principal: AdminPrincipal
        /// SHA-256 of the token's UTF-8 bytes.
        public var digest: [UInt8]

        public init(principal: AdminPrincipal, digest: [UInt8]) {
            self.principal = principal
            self.digest = digest
        }

        /// The entry for `token` itself (tests, and `meridian local`, which makes its own token).
        public init(name: String, role: AdminRole, token: String) {
            self.init(principal: AdminPrincipal(name: name, role: role), digest: AdminTokens.digest(of: token))
        }

        /// The entry's line in a tokens file.
        public var line: String {
            "\(principal.name) \(principal.role.rawValue) \(digest.map { String(format: "%02x", $0) }.joined())"
        }
    }

    public var entries: [Entry]

    /// No tokens: only `/healthz` and `/readyz` answer.
    public static let none = AdminTokens(entries: [])

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// The principal whose token this is, or nil. Compares against every entry in constant
    /// time, so the answer's timing says nothing about how close a guess came.
    public func principal(for token: String) -> AdminPrincipal? {
        let presented = Self.digest(of: token)
        var found: AdminPrincipal?
        for entry in entries where Self.constantTimeEqual(entry.digest, presented) {
            found = found ?? entry.principal
        }
        return found
    }

    /// Whether `token` may act as `role`: the one check every door asks (the admin HTTP, a
    /// node's admin gate, a topology change), each wording its own refusal.
    public func authorize(_ token: String, as role: AdminRole) -> AdminAuthorization {
        guard let principal = principal(for: token) else { return .unknownToken }
        return principal.role >= role ? .granted(principal) : .insufficientRole(principal)
    }

    /// A new random token: `mrd_` and 32 random bytes in base64url.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let base64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return "mrd_" + base64
    }

    static func digest(of token: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(token.utf8)))
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

extension AdminTokens {
    /// Largest tokens file read: far above any real list of operators.
    public static let maximumFileBytes = 1 << 20

    /// Reads a tokens file (`name role sha256-hex` per line; `#` comments and blank lines skipped).
    /// - Throws: ``AdminTokensError`` naming the file and line of the first bad entry.
    public static func load(path: String) throws(AdminTokensError) -> AdminTokens {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw AdminTokensError(file: path, line: 0, "cannot read it (\(error.localizedDescription))")
        }
        guard data.count <= maximumFileBytes else { throw AdminTokensError(file: path, line: 0, "it is larger than \(maximumFileBytes) bytes") }
        guard let text = String(data: data, encoding: .utf8) else { throw AdminTokensError(file: path, line: 0, "it is not UTF-8 text") }
        return try parse(text, file: path)
    }

    /// Parses the text of a tokens file; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(AdminTokensError) -> AdminTokens {
        var entries: [Entry] = []
        var names: [String: Int] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let content = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 3 else {
                throw AdminTokensError(file: file, line: line, "expected `name role sha256-hex`, found \(fields.count) field(s)")
            }
            let name = String(fields[0])
            guard let role = AdminRole(rawValue: String(fields[1])) else {
                throw AdminTokensError(file: file, line: line, "role '\(fields[1])' is not one of \(AdminRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let digest = hexBytes(fields[2]), digest.count == SHA256.byteCount else {
                throw AdminTokensError(file: file, line: line, "the third field must be the token's SHA-256 as 64 hex digits (not the token itself)")
            }
            if let first = names[name] {
                throw AdminTokensError(file: file, line: line, "name '\(name)' is already given at line \(first); each holder has one name, for the audit log")
            }
            names[name] = line
            entries.append(Entry(principal: AdminPrincipal(name: name, role: role), digest: digest))
        }
        return AdminTokens(entries: entries)
    }

    private static func hexBytes(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// What ``AdminTokens/authorize(_:as:)`` found.
public enum AdminAuthorization: Sendable, Hashable {
    case granted(AdminPrincipal)
    /// No entry of the tokens file has this token.
    case unknownToken
    /// The holder's role is below the one asked for.
    case insufficientRole(AdminPrincipal)
}

/// A tokens file that cannot be used, with where and why.
public struct AdminTokensError: Error, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based; 0 for the file as a whole.
    public var line: Int
    public var problem: String

    init(file: String, line: Int, _ problem: String) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String {
        line > 0 ? "\(file):\(line): \(problem)" : "admin tokens file \(file): \(problem)"
    }
}
