import Foundation

/// One node's side of `meridian topology apply`, as a pure state machine: a two-phase change
/// where the version is the compare-and-set. The tool asks every up node to prepare version
/// N+1 in a fixed order (node ids sorted) and commits only when all accepted; a node holds at
/// most one prepared change, so of two applies racing for N+1 the one that reaches the first
/// node second is refused there and changes nothing anywhere. A prepared change that is
/// neither committed nor aborted (its tool died) expires after ``prepareLease``.
public struct TopologyChangeState: Sendable {
    /// A change accepted in phase one, awaiting its commit.
    public struct Prepared: Sendable, Equatable {
        public var version: Int
        /// SHA-256 of the YAML: commit and abort name the change by version and digest.
        public var digest: Data
        public var expiresAt: Duration
    }

    public enum PrepareOutcome: Sendable, Equatable {
        case accepted
        case refused(String)
    }

    public enum CommitOutcome: Sendable, Equatable {
        /// Adopt the prepared version now.
        case apply
        /// This version is already in force here (a repeated commit).
        case alreadyApplied
        case refused(String)
    }

    /// How long a prepared change waits for its commit. Default 30 s: a tool talks to every node
    /// in far less.
    public var prepareLease: Duration
    public private(set) var currentVersion: Int
    public private(set) var prepared: Prepared?

    public init(currentVersion: Int, prepareLease: Duration = .seconds(30)) {
        self.currentVersion = currentVersion
        self.prepareLease = prepareLease
    }

    /// Phase one: accepts version `version` (with `digest`) when it is exactly the next one and
    /// no other change is prepared (or the other's lease ran out). Preparing the same change
    /// again is accepted (a retried request).
    public mutating func prepare(version: Int, digest: Data, now: Duration) -> PrepareOutcome {
        expire(now: now)
        guard version == currentVersion + 1 else {
            return .refused(
                version <= currentVersion
                    ? "version \(version) is not newer than the version in force here (\(currentVersion)); write version: \(currentVersion + 1)"
                    : "version \(version) skips versions: the version in force here is \(currentVersion); write version: \(currentVersion + 1)"
            )
        }
        if let prepared {
            if prepared.version == version, prepared.digest == digest {
                self.prepared?.expiresAt = now + prepareLease
                return .accepted
            }
            return .refused("another change to version \(prepared.version) is being applied; try again once it ends")
        }
        prepared = Prepared(version: version, digest: digest, expiresAt: now + prepareLease)
        return .accepted
    }

    /// Phase two: the change prepared here is to be adopted.
    public mutating func commit(version: Int, digest: Data, now: Duration) -> CommitOutcome {
        if version == currentVersion, prepared == nil || prepared?.version != version { return .alreadyApplied }
        guard let prepared, prepared.version == version, prepared.digest == digest, now < prepared.expiresAt else {
            return .refused("version \(version) is not prepared here (expired, aborted or another change); apply again")
        }
        self.prepared = nil
        currentVersion = version
        return .apply
    }

    /// Drops the prepared change, if it is this one.
    public mutating func abort(version: Int, digest: Data) {
        if prepared?.version == version, prepared?.digest == digest { prepared = nil }
    }

    /// A newer version learned another way (from a peer, after a restart): adopted as current;
    /// a prepared change it overtakes is dropped.
    public mutating func learned(version: Int) {
        guard version > currentVersion else { return }
        currentVersion = version
        if let prepared, prepared.version <= version { self.prepared = nil }
    }

    private mutating func expire(now: Duration) {
        if let prepared, now >= prepared.expiresAt { self.prepared = nil }
    }
}
