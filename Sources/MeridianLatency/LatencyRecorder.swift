import Histogram

/// Call latencies in an HdrHistogram: 3 significant digits from 1 ns (or 1 µs) up to
/// `highestTrackable` (60 s by default).
///
/// A value type with no locks: give every concurrent caller its own recorder and
/// ``merge(_:)`` them when the run is over (``ClosedLoopLoad`` does exactly that).
package struct LatencyRecorder: Sendable {
    /// The smallest difference the histogram tells apart. Values are nanoseconds either way;
    /// `.microseconds` only makes the histogram coarser below 1 µs and a little smaller.
    package enum Resolution: Sendable, Hashable {
        case nanoseconds
        case microseconds

        var lowestDiscernibleNanoseconds: UInt64 {
            switch self {
            case .nanoseconds: 1
            case .microseconds: 1_000
            }
        }
    }

    private var histogram: Histogram<UInt64>
    /// Latencies above the histogram's range, recorded as `highestTrackable` (so they still count).
    package private(set) var clampedCount: Int = 0

    /// - Parameters:
    ///   - resolution: The smallest difference told apart; nanoseconds by default.
    ///   - highestTrackable: The largest latency kept exactly; larger ones are recorded as this.
    package init(resolution: Resolution = .nanoseconds, highestTrackable: Duration = .seconds(60)) {
        let lowest = resolution.lowestDiscernibleNanoseconds
        let highest = Swift.max(highestTrackable.benchNanoseconds, 2 * lowest)
        self.histogram = Histogram(
            lowestDiscernibleValue: lowest,
            highestTrackableValue: highest,
            numberOfSignificantValueDigits: .three
        )
    }

    /// Records one latency.
    package mutating func record(_ latency: Duration) {
        self.record(nanoseconds: latency.benchNanoseconds)
    }

    /// Records one latency given in nanoseconds.
    package mutating func record(nanoseconds: UInt64) {
        if !self.histogram.record(nanoseconds) {
            // Above the range: keep the call in the count (and in the tail) rather than drop it.
            self.histogram.record(self.histogram.highestTrackableValue)
            self.clampedCount += 1
        }
    }

    /// Adds every latency recorded by `other` (which must use the same resolution).
    package mutating func merge(_ other: LatencyRecorder) {
        self.histogram.add(other.histogram)
        self.clampedCount += other.clampedCount
    }

    /// All the latencies of `recorders` in one recorder; `nil` when there are none.
    package static func merged(_ recorders: some Sequence<LatencyRecorder>) -> LatencyRecorder? {
        var iterator = recorders.makeIterator()
        guard var result = iterator.next() else { return nil }
        while let next = iterator.next() {
            result.merge(next)
        }
        return result
    }

    /// The recorded latencies as `[nanoseconds, count]` pairs (non-empty buckets only): how a
    /// recorder travels between processes (the load generator's workers to their parent).
    package var buckets: [[UInt64]] {
        self.histogram.recordedValues().map { [$0.value, UInt64($0.count)] }
    }

    /// Adds latencies given as ``buckets``.
    package mutating func record(buckets: [[UInt64]]) {
        for bucket in buckets where bucket.count == 2 && bucket[1] > 0 {
            if !self.histogram.record(bucket[0], count: bucket[1]) {
                self.histogram.record(self.histogram.highestTrackableValue, count: bucket[1])
                self.clampedCount += Int(bucket[1])
            }
        }
    }

    /// The number of latencies recorded.
    package var count: Int { Int(self.histogram.totalCount) }

    /// The latency at `percentile` (0…100), e.g. `99.9`. Zero when nothing was recorded.
    package func percentile(_ percentile: Double) -> Duration {
        .nanoseconds(Int64(clamping: self.histogram.valueAtPercentile(percentile)))
    }

    package var p50: Duration { self.percentile(50) }
    package var p99: Duration { self.percentile(99) }
    package var p999: Duration { self.percentile(99.9) }

    /// The largest latency recorded (to the histogram's precision).
    package var max: Duration {
        .nanoseconds(Int64(clamping: self.histogram.totalCount == 0 ? 0 : self.histogram.maxRecorded))
    }

    /// The mean latency (to the histogram's precision).
    package var mean: Duration {
        .nanoseconds(Int64(self.histogram.mean.rounded()))
    }
}

// Prefixed names: they are for measuring, not part of the node's vocabulary.
extension Duration {
    /// This duration in whole nanoseconds, 0 if negative, `UInt64.max` if enormous.
    package var benchNanoseconds: UInt64 {
        let (seconds, attoseconds) = self.components
        if seconds < 0 || (seconds == 0 && attoseconds < 0) { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        return whole &+ UInt64(attoseconds / 1_000_000_000)
    }

    /// This duration in microseconds, as ``BenchResult`` reports latencies.
    package var benchMicroseconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) * 1e6 + Double(attoseconds) / 1e12
    }

    /// This duration in seconds.
    package var benchSeconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
