import Metrics
import Synchronization

/// Tick durations of every match on this node, for status output and metrics: a running
/// count and sum, the maximum, and the slowest tick of the recent window (reset by ``drain()``).
public final class TickStatistics: Sendable {
    public struct Summary: Sendable, Hashable {
        public var ticks: UInt64
        public var meanMicroseconds: Double
        public var maxMicroseconds: Double
        public var activeMatches: Int
        /// Ticks and their summed time since the node started (never reset): two readers
        /// (`meridian local` and a `meridian loadtest`) each get exact means by differencing.
        public var ticksSinceStart: UInt64
        public var microsecondsSinceStart: Double
    }

    private struct State {
        var ticks: UInt64 = 0
        var totalNanoseconds: UInt64 = 0
        var maxNanoseconds: UInt64 = 0
        var activeMatches = 0
        var ticksSinceStart: UInt64 = 0
        var nanosecondsSinceStart: UInt64 = 0
    }

    private let state = Mutex(State())
    /// `meridian_tick_seconds`: every tick of every match on this node (``record(_:)`` is called by
    /// `MatchActor.tickOnce()` with the tick's duration).
    private let tickTimer = Metrics.Timer(label: "meridian_tick_seconds")
    /// `meridian_matches_active`: matches running. A meter, so nodes sharing a process add up.
    private let activeMatchesMeter = Meter(label: "meridian_matches_active")

    public init() {}

    func record(_ duration: Duration) {
        let nanoseconds = UInt64(max(0, duration.components.seconds)) * 1_000_000_000
            + UInt64(max(0, duration.components.attoseconds / 1_000_000_000))
        state.withLock {
            $0.ticks += 1
            $0.totalNanoseconds += nanoseconds
            $0.maxNanoseconds = max($0.maxNanoseconds, nanoseconds)
            $0.ticksSinceStart += 1
            $0.nanosecondsSinceStart += nanoseconds
        }
        tickTimer.recordNanoseconds(nanoseconds)
    }

    func matchStarted() {
        state.withLock { $0.activeMatches += 1 }
        activeMatchesMeter.increment()
    }

    func matchStopped() {
        state.withLock { $0.activeMatches -= 1 }
        activeMatchesMeter.decrement()
    }

    /// The figures since the last drain, then starts a new window.
    public func drain() -> Summary {
        state.withLock { state in
            let summary = Summary(
                ticks: state.ticks,
                meanMicroseconds: state.ticks == 0 ? 0 : Double(state.totalNanoseconds) / Double(state.ticks) / 1000,
                maxMicroseconds: Double(state.maxNanoseconds) / 1000,
                activeMatches: state.activeMatches,
                ticksSinceStart: state.ticksSinceStart,
                microsecondsSinceStart: Double(state.nanosecondsSinceStart) / 1000
            )
            state.ticks = 0
            state.totalNanoseconds = 0
            state.maxNanoseconds = 0
            return summary
        }
    }
}
