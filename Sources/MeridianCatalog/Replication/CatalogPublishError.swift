/// Why a publish was refused or did not complete. Crosses the wire as its description.
public struct CatalogPublishError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The catalog does not validate; nothing changed.
        case invalidCatalog = "invalid-catalog"
        /// No node of the primary region is up; nothing changed.
        case noLeader = "no-leader"
        /// The request reached a node that is not the leader and could not be forwarded.
        case notLeader = "not-leader"
        /// The leader could not persist the new version; nothing changed.
        case persistenceFailed = "persistence-failed"
        /// No node of the primary region answered.
        case unreachable
        /// A version at `UInt64.max` was announced: there is no next one.
        case versionsExhausted = "versions-exhausted"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
