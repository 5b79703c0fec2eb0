import Metrics
import Synchronization

/// Tick durations of every match on this node, for status output and metrics: a running
/// count and sum, the maximum, and the slowest tick of the recent window (reset by ``drain()``),
/// and the most recent ``recentCapacity`` ticks for a percentile that needs no reset.
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

    /// How many of the latest ticks ``recentPercentile(_:)`` looks at: at 30 Hz, 4,096 ticks
    /// are a few seconds of a busy node's matches.
    public static let recentCapacity = 4096

    private struct State {
        var ticks: UInt64 = 0
        var totalNanoseconds: UInt64 = 0
        var maxNanoseconds: UInt64 = 0
        var activeMatches = 0
        var ticksSinceStart: UInt64 = 0
        var nanosecondsSinceStart: UInt64 = 0
        /// A ring of the latest tick durations; `recentNext` is where the next one goes.
        var recent: [UInt64] = []
        var recentNext = 0
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
            if $0.recent.count < Self.recentCapacity {
                $0.recent.append(nanoseconds)
            } else {
                $0.recent[$0.recentNext] = nanoseconds
            }
            $0.recentNext = ($0.recentNext + 1) % Self.recentCapacity
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

    /// The `quantile` (0…1) of the latest ticks' durations in microseconds (nearest rank); 0
    /// before the first tick. Sorts a copy: for operators' views, not for the tick path.
    public func recentPercentile(_ quantile: Double) -> Double {
        let recent = state.withLock { $0.recent }
        guard !recent.isEmpty else { return 0 }
        let sorted = recent.sorted()
        let rank = Int((quantile * Double(sorted.count)).rounded(.up))
        return Double(sorted[min(max(rank, 1), sorted.count) - 1]) / 1000
    }

    /// The figures since the last drain, then starts a new window.
    public func drain() -> Summary {
        state.withLock { state in
            let summary = Self.summary(of: state)
            state.ticks = 0
            state.totalNanoseconds = 0
            state.maxNanoseconds = 0
            return summary
        }
    }

    /// The figures since the last drain, leaving the window running.
    public func peek() -> Summary {
        state.withLock { Self.summary(of: $0) }
    }

    private static func summary(of state: State) -> Summary {
        Summary(
            ticks: state.ticks,
            meanMicroseconds: state.ticks == 0 ? 0 : Double(state.totalNanoseconds) / Double(state.ticks) / 1000,
            maxMicroseconds: Double(state.maxNanoseconds) / 1000,
            activeMatches: state.activeMatches,
            ticksSinceStart: state.ticksSinceStart,
            microsecondsSinceStart: Double(state.nanosecondsSinceStart) / 1000
        )
    }
}
