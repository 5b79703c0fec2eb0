/// A point in time, as a monotonic offset from an arbitrary origin.
///
/// The state machine never reads a clock: the driver passes `ContinuousClock` offsets
/// (`SWIMInstant(origin.duration(to: .now))`) and tests pass plain numbers, so every timeout
/// can be exercised deterministically.
public struct SWIMInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    /// The instant `offset` after the origin; negative offsets clamp to the origin.
    public init(_ offset: Duration) {
        self.nanoseconds = offset.clampedNanoseconds
    }

    public static let zero = SWIMInstant(nanoseconds: 0)

    /// Saturating, so a huge configured delay means "never" instead of a trap.
    public static func + (lhs: SWIMInstant, rhs: Duration) -> SWIMInstant {
        if rhs < .zero {
            let back = (Duration.zero - rhs).clampedNanoseconds
            return SWIMInstant(nanoseconds: lhs.nanoseconds >= back ? lhs.nanoseconds - back : 0)
        }
        let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(rhs.clampedNanoseconds)
        return SWIMInstant(nanoseconds: overflow ? .max : sum)
    }

    public static func += (lhs: inout SWIMInstant, rhs: Duration) {
        lhs = lhs + rhs
    }

    /// The signed time from `rhs` to `lhs`.
    public static func - (lhs: SWIMInstant, rhs: SWIMInstant) -> Duration {
        if lhs.nanoseconds >= rhs.nanoseconds {
            return .nanoseconds(lhs.nanoseconds - rhs.nanoseconds)
        }
        return .zero - .nanoseconds(rhs.nanoseconds - lhs.nanoseconds)
    }

    public static func < (lhs: SWIMInstant, rhs: SWIMInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    public var description: String {
        "\(nanoseconds / 1_000_000)ms"
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to `0...UInt64.max`.
    var clampedNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds < 0) { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (sum, overflow2) = whole.addingReportingOverflow(UInt64(max(attoseconds, 0) / 1_000_000_000))
        return overflow2 ? .max : sum
    }
}
