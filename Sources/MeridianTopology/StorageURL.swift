/// Storage URL helpers shared by validation and reports.
enum StorageURL {
    /// The schemes the storage layer can open.
    static let knownPrefixes = ["sqlite:", "postgres://", "postgresql://"]

    /// Whether `storage` is one database for all the region's nodes (a server), not a file per node.
    static func isShared(_ storage: String) -> Bool {
        storage.hasPrefix("postgres://") || storage.hasPrefix("postgresql://")
    }

    /// Whether `storage` names a backend the storage layer knows.
    static func hasKnownScheme(_ storage: String) -> Bool {
        knownPrefixes.contains { storage.hasPrefix($0) && storage.count > $0.count }
    }

    /// Whether `storage` carries a password (`scheme://user:password@host`).
    static func hasPassword(_ storage: String) -> Bool {
        redacted(storage) != storage
    }

    /// Replaces the password of `scheme://user:password@host` with `***`: topology reports end up in
    /// terminals, logs and tickets, and must never carry a database secret.
    static func redacted(_ storage: String) -> String {
        guard let separator = storage.firstIndex(of: ":"), storage[separator...].hasPrefix("://") else { return storage }
        let rest = storage[storage.index(separator, offsetBy: 3)...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"),
              let colon = authority[..<at].firstIndex(of: ":")
        else { return storage }
        return storage[..<rest.index(after: colon)] + "***" + storage[at...]
    }
}
