/// How a failed operation is tried again: after a pause that doubles from ``initialPause`` up
/// to ``maximumPause``, for at most ``attempts`` tries and within ``limit`` of the first one.
public struct RetryPolicy: Sendable {
    /// Tries in all, the first one included. Default: no bound (``limit`` bounds the retries).
    public var attempts: Int = .max
    /// No new try starts later than this after the first. Default: no bound.
    public var limit: Duration?
    /// The pause after the first failure. Default: 100 ms.
    public var initialPause: Duration = .milliseconds(100)
    /// The longest pause. Default: 2 s.
    public var maximumPause: Duration = .seconds(2)

    public init(attempts: Int = .max, limit: Duration? = nil, initialPause: Duration = .milliseconds(100), maximumPause: Duration = .seconds(2)) {
        self.attempts = attempts
        self.limit = limit
        self.initialPause = initialPause
        self.maximumPause = maximumPause
    }

    /// Runs `operation` until it succeeds. After a failure, `retryIf` decides whether the
    /// error is worth another try; the last error is rethrown when it is not or when the tries
    /// run out (a `CancellationError` when the task is cancelled during a pause).
    public func run<T>(retryIf: (any Error) -> Bool, _ operation: () async throws -> T) async throws -> T {
        let started = ContinuousClock.now
        var pause = initialPause
        var attempt = 1
        while true {
            do {
                return try await operation()
            } catch {
                let outOfTime = limit.map { ContinuousClock.now - started + pause > $0 } ?? false
                guard retryIf(error), attempt < attempts, !outOfTime, !Task.isCancelled else { throw error }
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, maximumPause)
            attempt += 1
        }
    }
}
