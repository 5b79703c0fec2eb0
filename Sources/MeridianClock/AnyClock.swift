/// A clock of `Duration` whose concrete type is chosen by whoever builds the node: the
/// continuous clock in production, a ``ManualClock`` in tests that step time.
///
/// Every timed part of the game and gateway layers (match ticks and timers, matchmaker passes,
/// reconciliation, passivation, gateway timers) sleeps on and reads the clock it was given,
/// so a test can move time forward instead of waiting for it. Instants count from the moment
/// the clock was wrapped; two `AnyClock`s' instants are only comparable when they wrap the
/// same clock at the same moment, so share one value rather than wrapping twice.
public struct AnyClock: Clock, Sendable {
    public struct Instant: InstantProtocol, Sendable {
        /// Time since the wrapped clock's origin.
        public var offset: Duration

        public init(offset: Duration) {
            self.offset = offset
        }

        public func advanced(by duration: Duration) -> Instant {
            Instant(offset: offset + duration)
        }

        public func duration(to other: Instant) -> Duration {
            other.offset - offset
        }

        public static func < (lhs: Instant, rhs: Instant) -> Bool {
            lhs.offset < rhs.offset
        }
    }

    private let readOffset: @Sendable () -> Duration
    private let sleepUntilOffset: @Sendable (Duration, Duration?) async throws -> Void
    public let minimumResolution: Duration

    public init<C: Clock & Sendable>(_ clock: C) where C.Duration == Duration, C.Instant: Sendable {
        let origin = clock.now
        readOffset = { origin.duration(to: clock.now) }
        sleepUntilOffset = { offset, tolerance in
            try await clock.sleep(until: origin.advanced(by: offset), tolerance: tolerance)
        }
        minimumResolution = clock.minimumResolution
    }

    /// The continuous clock (keeps counting while the machine sleeps): what a node runs on.
    public static var continuous: AnyClock { AnyClock(ContinuousClock()) }

    public var now: Instant { Instant(offset: readOffset()) }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try await sleepUntilOffset(deadline.offset, tolerance)
    }
}
