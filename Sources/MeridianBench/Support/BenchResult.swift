import MeridianLatency

/// One measured point of a benchmark: a case (what was called) at a number of calls in flight.
///
/// Encoded with the snake_case keys the reports and scripts read:
/// `case`, `inflight`, `calls_per_s`, `p50_us`, `p99_us`, `p999_us`, and, when known,
/// `max_us`, `calls`, `seconds`.
package struct BenchResult: Codable, Sendable, Hashable {
    /// What was measured: "meridian", "nio-echo", "grpc", "meridian-under-bulk", …
    package var `case`: String
    /// Calls kept in flight at once (closed loop).
    package var inflight: Int
    /// Calls completed per second of the measured window.
    package var callsPerSecond: Double
    package var p50Microseconds: Double
    package var p99Microseconds: Double
    package var p999Microseconds: Double
    package var maxMicroseconds: Double?
    /// Calls completed in the measured window.
    package var calls: Int?
    /// Length of the measured window (warm-up excluded).
    package var seconds: Double?

    package init(
        case: String,
        inflight: Int,
        callsPerSecond: Double,
        p50Microseconds: Double,
        p99Microseconds: Double,
        p999Microseconds: Double,
        maxMicroseconds: Double? = nil,
        calls: Int? = nil,
        seconds: Double? = nil
    ) {
        self.case = `case`
        self.inflight = inflight
        self.callsPerSecond = callsPerSecond
        self.p50Microseconds = p50Microseconds
        self.p99Microseconds = p99Microseconds
        self.p999Microseconds = p999Microseconds
        self.maxMicroseconds = maxMicroseconds
        self.calls = calls
        self.seconds = seconds
    }

    /// The result of `latencies`, recorded over a window of `window`.
    package init(case: String, inflight: Int, latencies: LatencyRecorder, window: Duration) {
        let seconds = window.benchSeconds
        self.init(
            case: `case`,
            inflight: inflight,
            callsPerSecond: seconds > 0 ? Double(latencies.count) / seconds : 0,
            p50Microseconds: latencies.p50.benchMicroseconds,
            p99Microseconds: latencies.p99.benchMicroseconds,
            p999Microseconds: latencies.p999.benchMicroseconds,
            maxMicroseconds: latencies.max.benchMicroseconds,
            calls: latencies.count,
            seconds: seconds
        )
    }

    enum CodingKeys: String, CodingKey {
        case `case`
        case inflight
        case callsPerSecond = "calls_per_s"
        case p50Microseconds = "p50_us"
        case p99Microseconds = "p99_us"
        case p999Microseconds = "p999_us"
        case maxMicroseconds = "max_us"
        case calls
        case seconds
    }
}
