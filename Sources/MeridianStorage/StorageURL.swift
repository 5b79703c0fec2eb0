import Foundation

/// Where a region's (or node's) store lives, parsed from a topology's `storage:` string:
///
/// - `sqlite:DIR` — a directory (relative to the working directory, or absolute); each node keeps
///   `DIR/<node>.sqlite`.
/// - `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require][&password_file=PATH]`
///   (also `postgresql://`) — one database per region. User and password may be percent-encoded. The
///   default port is 5432; the default `sslmode` is `prefer` (TLS when the server offers it). A
///   topology file never carries the password (any member can fetch the topology): the node reads
///   it from `password_file` (a file on the node) or, failing that, `$MERIDIAN_POSTGRES_PASSWORD`
///   (``PostgresSettings/resolvedPassword(environment:)``).
public enum StorageURL: Hashable, Sendable, CustomStringConvertible {
    case sqlite(directory: String)
    case postgres(PostgresSettings)

    /// Connection settings of a PostgreSQL database.
    public struct PostgresSettings: Hashable, Sendable {
        public enum TLSMode: String, Hashable, Sendable {
            case disable, prefer, require
        }

        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        public var tls: TLSMode
        /// A file on the node holding the password (its first line).
        public var passwordFile: String?

        public init(
            host: String, port: Int = 5432, username: String, password: String? = nil, database: String, tls: TLSMode = .prefer, passwordFile: String? = nil
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.tls = tls
            self.passwordFile = passwordFile
        }

        /// The password to connect with: the URL's own (tests, tools), else the first line of
        /// ``passwordFile``, else `$MERIDIAN_POSTGRES_PASSWORD`; nil for none (trust or
        /// certificate authentication).
        /// - Throws: ``StorageError`` when ``passwordFile`` cannot be read.
        public func resolvedPassword(environment: [String: String] = ProcessInfo.processInfo.environment) throws(StorageError) -> String? {
            if let password { return password }
            if let passwordFile {
                guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                    throw .invalid("cannot read the PostgreSQL password file \(passwordFile) (the storage URL's password_file)")
                }
                return String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            }
            return environment["MERIDIAN_POSTGRES_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    /// Parses a `storage:` string; the error message says what is wrong and never repeats a password.
    public init(parsing text: String) throws(StorageError) {
        if text.hasPrefix("sqlite:") {
            let directory = String(text.dropFirst("sqlite:".count))
            guard !directory.isEmpty else { throw .invalid("\"sqlite:\" needs a directory, e.g. sqlite:data/eu-west") }
            self = .sqlite(directory: directory)
            return
        }
        for scheme in ["postgres://", "postgresql://"] where text.hasPrefix(scheme) {
            self = .postgres(try Self.parsePostgres(String(text.dropFirst(scheme.count))))
            return
        }
        throw .invalid("storage \"\(Self.redacted(text))\" has an unknown scheme; use sqlite:DIR or postgres://user@host:port/database")
    }

    private static func parsePostgres(_ rest: String) throws(StorageError) -> PostgresSettings {
        let example = "postgres://user[:password]@host[:port]/database"
        var remainder = Substring(rest)
        var query: Substring = ""
        if let mark = remainder.firstIndex(of: "?") {
            query = remainder[remainder.index(after: mark)...]
            remainder = remainder[..<mark]
        }
        guard let slash = remainder.firstIndex(of: "/") else { throw .invalid("a PostgreSQL storage URL names its database: \(example)") }
        let authority = remainder[..<slash]
        guard let database = String(remainder[remainder.index(after: slash)...]).removingPercentEncoding, !database.isEmpty, !database.contains("/") else {
            throw .invalid("a PostgreSQL storage URL names exactly one database: \(example)")
        }
        guard let at = authority.lastIndex(of: "@") else { throw .invalid("a PostgreSQL storage URL names its user: \(example)") }
        let userInfo = authority[..<at]
        let hostPort = authority[authority.index(after: at)...]

        let username: String
        var password: String?
        if let colon = userInfo.firstIndex(of: ":") {
            username = String(userInfo[..<colon]).removingPercentEncoding ?? ""
            password = String(userInfo[userInfo.index(after: colon)...]).removingPercentEncoding
            guard password != nil else { throw .invalid("the password in the PostgreSQL storage URL is not valid percent-encoding") }
        } else {
            username = String(userInfo).removingPercentEncoding ?? ""
        }
        guard !username.isEmpty else { throw .invalid("a PostgreSQL storage URL names its user: \(example)") }

        let (host, port) = try hostAndPort(hostPort, example: example)
        var tls = PostgresSettings.TLSMode.prefer
        var passwordFile: String?
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw .invalid("storage URL option \"\(pair)\" is not key=value") }
            switch parts[0] {
            case "sslmode":
                guard let mode = PostgresSettings.TLSMode(rawValue: parts[1]) else {
                    throw .invalid("sslmode must be disable, prefer or require, got \"\(parts[1])\"")
                }
                tls = mode
            case "password_file":
                guard let path = parts[1].removingPercentEncoding, !path.isEmpty else { throw .invalid("password_file names a file on the node") }
                passwordFile = path
            default:
                throw .invalid("unknown storage URL option \"\(parts[0])\"; the options are sslmode and password_file")
            }
        }
        return PostgresSettings(host: host, port: port, username: username, password: password, database: database, tls: tls, passwordFile: passwordFile)
    }

    private static func hostAndPort(_ text: Substring, example: String) throws(StorageError) -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            // [IPv6]:port
            guard let close = text.firstIndex(of: "]") else { throw .invalid("unterminated [IPv6] host in the PostgreSQL storage URL") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw .invalid("unexpected \"\(after)\" after the [IPv6] host")
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = text
        }
        guard !host.isEmpty else { throw .invalid("a PostgreSQL storage URL names its host: \(example)") }
        var port = 5432
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw .invalid("port \"\(portText)\" in the PostgreSQL storage URL is not 1–65535")
            }
            port = value
        }
        return (String(host), port)
    }

    /// The URL with the password replaced by `***`: fit for logs, terminals and tickets.
    public var description: String {
        switch self {
        case .sqlite(let directory):
            return "sqlite:\(directory)"
        case .postgres(let settings):
            let credentials = settings.password == nil ? settings.username : "\(settings.username):***"
            let host = settings.host.contains(":") ? "[\(settings.host)]" : settings.host
            var options: [String] = []
            if settings.tls != .prefer { options.append("sslmode=\(settings.tls.rawValue)") }
            if let file = settings.passwordFile { options.append("password_file=\(file)") }
            let query = options.isEmpty ? "" : "?" + options.joined(separator: "&")
            return "postgres://\(credentials)@\(host):\(settings.port)/\(settings.database)\(query)"
        }
    }

    /// Best-effort redaction of a string that did not parse.
    static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@") else { return text }
        let userInfo = text[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}
