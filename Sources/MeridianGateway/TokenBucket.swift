/// A token bucket: refilled at `rate` tokens per second up to `burst`, starting full. The one
/// rate limit of the gateway: a connection's messages per second, and a source address's logins
/// and registrations per minute (``Admission``). Pure: time comes in as `now`.
struct TokenBucket<Instant: InstantProtocol> where Instant.Duration == Duration {
    let rate: Double
    let burst: Double
    private(set) var tokens: Double
    private(set) var last: Instant

    init(rate: Double, burst: Double, now: Instant) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.last = now
    }

    /// `perMinute` a minute, holding at most `perMinute` (at least 1).
    init(perMinute: Int, now: Instant) {
        let capacity = Double(max(1, perMinute))
        self.init(rate: capacity / 60, burst: capacity, now: now)
    }

    /// Takes one token; false when the bucket is empty.
    mutating func take(now: Instant) -> Bool {
        refill(now: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Whether a token is there now, without taking it.
    mutating func hasToken(now: Instant) -> Bool {
        refill(now: now)
        return tokens >= 1
    }

    /// Empties the bucket (an action counted after the fact, beyond the limit).
    mutating func empty() { tokens = 0 }

    private mutating func refill(now: Instant) {
        let elapsed = last.duration(to: now)
        guard elapsed > .zero else { return }
        last = now
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        tokens = min(burst, tokens + seconds * rate)
    }
}
