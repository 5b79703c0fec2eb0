

/// Failed-login limits, per account and per source address: after `maximumFailures` failures
/// within `window`, that key is locked for `lockout`. A success clears the account's count (not
/// the address's: one address trying many accounts stays limited). Pure; time comes in as `now`.
struct LoginThrottle<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    struct Limits: Sendable, Hashable {
        var maximumFailures: Int
        var window: Duration
        var lockout: Duration
    }

    private struct Record: Sendable {
        var failures: [Instant] = []
        var lockedUntil: Instant?
    }

    let perAccount: Limits
    let perSource: Limits
    private var accounts: [String: Record] = [:]
    private var sources: [String: Record] = [:]
    /// Bounds memory under a flood of distinct keys: the oldest records go first.
    let maximumKeys: Int

    init(perAccount: Limits, perSource: Limits, maximumKeys: Int = 100_000) {
        self.perAccount = perAccount
        self.perSource = perSource
        self.maximumKeys = maximumKeys
    }

    /// Keys remembered now (accounts and sources), for tests of the bound.
    var recordCount: Int { accounts.count + sources.count }

    /// How long until `account` from `source` may try again; nil: now.
    func retryAfter(account: String, source: String, now: Instant) -> Duration? {
        let waits = [accounts[account]?.lockedUntil, sources[source]?.lockedUntil].compactMap { until -> Duration? in
            guard let until, now < until else { return nil }
            return now.duration(to: until)
        }
        return waits.max()
    }

    mutating func failed(account: String, source: String, now: Instant) {
        Self.record(&accounts, key: account, limits: perAccount, now: now, maximumKeys: maximumKeys)
        Self.record(&sources, key: source, limits: perSource, now: now, maximumKeys: maximumKeys)
    }

    mutating func succeeded(account: String) {
        accounts[account] = nil
    }

    private static func record(_ records: inout [String: Record], key: String, limits: Limits, now: Instant, maximumKeys: Int) {
        if records[key] == nil, records.count >= maximumKeys {
            // Forget keys no longer locked first, then anything (a flood must not grow memory).
            let idle = records.filter { $0.value.lockedUntil.map { $0 <= now } ?? true }.map(\.key)
            for stale in idle.prefix(max(1, maximumKeys / 10)) { records[stale] = nil }
            if records.count >= maximumKeys, let any = records.keys.first { records[any] = nil }
        }
        var record = records[key] ?? Record()
        record.failures = record.failures.filter { $0.duration(to: now) < limits.window } + [now]
        if record.failures.count >= limits.maximumFailures {
            record.lockedUntil = now.advanced(by: limits.lockout)
            record.failures = []
        }
        records[key] = record
    }
}
