import MeridianLatency

/// A closed-loop load: `inflight` callers, each making its next call as soon as the last one
/// returned, for a warm-up and then a measured window.
///
/// Every caller is its own child task with its own ``LatencyRecorder``; the recorders are merged
/// once the run is over, so the hot path takes no lock and shares no memory. A caller reads the
/// clock once per call: the end of one call is the start of the next.
///
/// What is counted: every call that *completes* inside the measured window (calls started in the
/// warm-up included, they ran under the same load). `callsPerSecond` is that count divided by the
/// window's length.
package struct ClosedLoopLoad: Sendable {
    /// Calls kept in flight at once: one caller task per slot.
    package var inflight: Int
    /// Load applied before measuring (connections warm, buffers sized, code paged in).
    package var warmUp: Duration
    /// The measured window.
    package var duration: Duration
    /// Histogram resolution of each caller's recorder.
    package var resolution: LatencyRecorder.Resolution

    /// - Parameters:
    ///   - inflight: Calls kept in flight at once (at least 1).
    ///   - duration: The measured window; 3 s by default.
    ///   - warmUp: Load applied first, not recorded; 1 s by default.
    ///   - resolution: Histogram resolution; nanoseconds by default.
    package init(
        inflight: Int,
        duration: Duration = .seconds(3),
        warmUp: Duration = .seconds(1),
        resolution: LatencyRecorder.Resolution = .nanoseconds
    ) {
        precondition(inflight >= 1, "a closed loop needs at least one caller")
        self.inflight = inflight
        self.duration = duration
        self.warmUp = warmUp
        self.resolution = resolution
    }

    /// Runs the load against `call` and returns the merged latencies and the measured window.
    ///
    /// The first error thrown by a call ends the run and is rethrown (a benchmark that fails
    /// calls is not measuring what it says). Cancelling the calling task stops the callers.
    package func measure(
        _ call: @escaping @Sendable () async throws -> Void
    ) async throws -> (latencies: LatencyRecorder, window: Duration) {
        let clock = ContinuousClock()
        let measureStart = clock.now.advanced(by: self.warmUp)
        let measureEnd = measureStart.advanced(by: self.duration)
        let resolution = self.resolution

        let merged = try await withThrowingTaskGroup(of: LatencyRecorder.self) { group in
            for _ in 0..<self.inflight {
                group.addTask {
                    var recorder = LatencyRecorder(resolution: resolution)
                    var start = clock.now
                    while !Task.isCancelled {
                        try await call()
                        let end = clock.now
                        if end >= measureStart {
                            if end >= measureEnd { break }
                            recorder.record(start.duration(to: end))
                        }
                        start = end
                    }
                    return recorder
                }
            }
            var merged = LatencyRecorder(resolution: resolution)
            for try await recorder in group {
                merged.merge(recorder)
            }
            return merged
        }
        // The callers stop early when cancelled: a partial window is not a result.
        try Task.checkCancellation()
        return (merged, self.duration)
    }

    /// Runs the load against `call` and reports it as `case` in a ``BenchResult``.
    package func run(
        case name: String,
        _ call: @escaping @Sendable () async throws -> Void
    ) async throws -> BenchResult {
        let (latencies, window) = try await self.measure(call)
        return BenchResult(case: name, inflight: self.inflight, latencies: latencies, window: window)
    }
}
