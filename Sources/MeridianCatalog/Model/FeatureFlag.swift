import Foundation
import MeridianTopology

/// A switch for a game feature, on for a share of players.
///
/// Which players are in the share is decided by a hash of the flag's name and the player's id
/// (``Rollout/bucket(flag:player:)``): the same on every node, process and release, so a player sees
/// the same answer wherever they connect. Raising the percentage only adds players: everyone in at
/// 10 % is still in at 20 %. Renaming a flag draws a new population.
public struct FeatureFlag: Sendable, Hashable {
    /// Name, e.g. `new_matchmaker`.
    public var name: String
    /// Master switch: `false` turns the flag off for everyone whatever the rollout.
    public var enabled: Bool
    public var rollout: Rollout
    /// What the flag is for (the file's `description`).
    public var summary: String

    public init(name: String, enabled: Bool, rollout: Rollout = .everyone, summary: String = "") {
        self.name = name
        self.enabled = enabled
        self.rollout = rollout
        self.summary = summary
    }

    /// Whether the flag is on for `player`.
    public func isEnabled(forPlayer player: UUID) -> Bool {
        enabled && rollout.includes(Rollout.bucket(flag: name, player: player))
    }

    /// Whether the flag is on for a subject named by text (an account name, a device id…).
    public func isEnabled(forSubject subject: String) -> Bool {
        enabled && rollout.includes(Rollout.bucket(flag: name, subject: subject))
    }
}

/// The share of players a flag is on for, in hundredths of a percent (basis points): 0…10 000.
public struct Rollout: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Buckets players are spread over; a rollout of `n` basis points includes buckets `0..<n`.
    public static let buckets: UInt64 = 10_000

    public let basisPoints: UInt16

    /// `nil` unless `0...10_000`.
    public init?(basisPoints: Int) {
        guard (0...Int(Self.buckets)).contains(basisPoints) else { return nil }
        self.basisPoints = UInt16(basisPoints)
    }

    /// `nil` unless `0...100` with at most two decimals (`12.5`, `0.01`).
    public init?(percent: Double) {
        let scaled = percent * 100
        guard percent.isFinite, abs(scaled - scaled.rounded()) < 1e-6, let value = Rollout(basisPoints: Int(scaled.rounded())) else {
            return nil
        }
        self = value
    }

    public static let nobody = Rollout(basisPoints: 0)!
    public static let everyone = Rollout(basisPoints: Int(buckets))!

    public var percent: Double { Double(basisPoints) / 100 }

    /// Whether a player in `bucket` is included.
    public func includes(_ bucket: UInt64) -> Bool {
        bucket < UInt64(basisPoints)
    }

    /// The bucket (0..<10 000) of a player for a flag: StableHash (FNV-1a + splitmix64) of the flag
    /// name and the player's 16 UUID bytes. Stable across nodes, processes and Swift versions.
    public static func bucket(flag: String, player: UUID) -> UInt64 {
        var hash = StableHash()
        hash.combine(flag)
        withUnsafeBytes(of: player.uuid) { hash.combine(bytes: $0) }
        return hash.finalize() % buckets
    }

    /// The bucket of a subject named by text: the hash of the flag name and the text's UTF-8 bytes.
    public static func bucket(flag: String, subject: String) -> UInt64 {
        var hash = StableHash()
        hash.combine(flag)
        hash.combine(subject)
        return hash.finalize() % buckets
    }

    public static func < (lhs: Rollout, rhs: Rollout) -> Bool { lhs.basisPoints < rhs.basisPoints }

    /// `12.5%`.
    public var description: String {
        basisPoints % 100 == 0 ? "\(basisPoints / 100)%" : "\(percent)%"
    }
}
