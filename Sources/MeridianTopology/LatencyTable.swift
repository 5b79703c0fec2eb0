/// Two region names in a fixed order, so `a/b` and `b/a` name the same link.
public struct RegionPair: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The name that sorts first.
    public let first: String
    /// The name that sorts second.
    public let second: String

    /// Creates the pair in either order.
    public init(_ a: String, _ b: String) {
        if a <= b {
            (first, second) = (a, b)
        } else {
            (first, second) = (b, a)
        }
    }

    /// `first/second`, the spelling used as a `latency_ms` key.
    public var description: String { "\(first)/\(second)" }

    public static func < (lhs: RegionPair, rhs: RegionPair) -> Bool {
        (lhs.first, lhs.second) < (rhs.first, rhs.second)
    }
}

/// Simulated one-way delay between regions (`latency_ms`), used by the link emulator on local runs
/// and to stretch failure-detection timeouts on cross-region links.
public struct LatencyTable: Sendable, Equatable {
    /// One-way delay in milliseconds per region pair; symmetric by construction of ``RegionPair``.
    public var milliseconds: [RegionPair: Int]

    /// Creates a table; a pair that is not listed has no simulated delay.
    public init(milliseconds: [RegionPair: Int] = [:]) {
        self.milliseconds = milliseconds
    }

    /// The listed delay in milliseconds between two distinct regions, if any.
    public func milliseconds(between a: String, and b: String) -> Int? {
        guard a != b else { return nil }
        return milliseconds[RegionPair(a, b)]
    }

    /// One-way delay: zero within a region and between regions that are not listed.
    public func oneWay(from a: String, to b: String) -> Duration {
        // A negative entry only exists in a topology that failed validation; never emulate negative time.
        .milliseconds(max(0, milliseconds(between: a, and: b) ?? 0))
    }

    /// Twice ``oneWay(from:to:)``.
    public func roundTrip(from a: String, to b: String) -> Duration {
        oneWay(from: a, to: b) * 2
    }

    /// The largest round trip between any two listed regions; zero for an empty table.
    public var largestRoundTrip: Duration {
        // Doubled as a Duration, not an Int, so no table value can overflow.
        .milliseconds(max(0, milliseconds.values.max() ?? 0)) * 2
    }
}
