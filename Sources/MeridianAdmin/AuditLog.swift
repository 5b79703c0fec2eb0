import Foundation
import Logging

/// One admin action: who, what, when, and how it ended.
public struct AuditEntry: Sendable, Hashable, Codable {
    /// When the action ended, milliseconds since 1970 (UTC).
    public var timeMs: Int64
    /// The node that carried it out.
    public var node: String
    /// The admin token's holder (its name in the tokens file).
    public var who: String
    public var role: AdminRole
    /// What was done, e.g. `catalog.publish`, `player.grant`, `account.ban`.
    public var action: String
    /// What it was done to, e.g. a player id or a catalog version.
    public var target: String
    /// `ok`, `refused: …` or `failed: …`.
    public var result: String

    public init(timeMs: Int64, node: String, who: String, role: AdminRole, action: String, target: String, result: String) {
        self.timeMs = timeMs
        self.node = node
        self.who = who
        self.role = role
        self.action = action
        self.target = target
        self.result = result
    }
}

/// The node's audit log of admin actions: appended to a file, one JSON object per line (never
/// rewritten, so a log shipper can tail it), and the latest ``recentCapacity`` kept in memory
/// for the console. Each entry is also logged at `notice`.
public actor AuditLog {
    public static let recentCapacity = 200

    private let path: String?
    private let node: String
    private let logger: Logger
    private let now: @Sendable () -> Date
    private var handle: FileHandle?
    private var recent: [AuditEntry] = []

    /// - Parameters:
    ///   - path: The file to append to (created if missing); nil keeps entries in memory and the log only.
    ///   - node: The node id every entry names.
    public init(path: String?, node: String, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.path = path
        self.node = node
        self.now = now
        self.logger = logger
    }

    /// Records one action. A file that cannot be written is reported in the log each time and
    /// the entry kept in memory: an admin action is not undone because its record failed.
    @discardableResult
    public func record(_ principal: AdminPrincipal, action: String, target: String, result: String) -> AuditEntry {
        let entry = AuditEntry(
            timeMs: Int64((now().timeIntervalSince1970 * 1000).rounded()), node: node, who: principal.name, role: principal.role,
            action: action, target: target, result: result
        )
        recent.append(entry)
        if recent.count > Self.recentCapacity { recent.removeFirst(recent.count - Self.recentCapacity) }
        logger.notice("admin action", metadata: [
            "meridian.audit.who": "\(entry.who)", "meridian.audit.action": "\(action)", "meridian.audit.target": "\(target)",
            "meridian.audit.result": "\(result)",
        ])
        if let path {
            do {
                var line = try JSONEncoder.audit.encode(entry)
                line.append(UInt8(ascii: "\n"))
                try append(line, to: path)
            } catch {
                logger.error("cannot write the audit log", metadata: ["meridian.audit.file": "\(path)", "meridian.error": "\(error)"])
            }
        }
        return entry
    }

    /// The latest entries, oldest first.
    public func entries() -> [AuditEntry] { recent }

    /// Closes the file.
    public func close() {
        try? handle?.close()
        handle = nil
    }

    private func append(_ line: Data, to path: String) throws {
        if handle == nil {
            if !FileManager.default.fileExists(atPath: path) {
                // Readable by the node's user only: entries name admins and players.
                guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
                }
            }
            let opened = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try opened.seekToEnd()
            handle = opened
        }
        try handle?.write(contentsOf: line)
    }
}

extension JSONEncoder {
    /// Stable key order, so audit lines diff and grep well.
    static var audit: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
