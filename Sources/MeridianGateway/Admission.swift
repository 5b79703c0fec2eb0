/// The gateway's limits on what one source address (and everyone together) may open and try:
/// connections at once, logins and registrations per minute. A client never gets to spend the
/// node's sockets, memory or the identity authority's hashing on its own say-so.
///
/// Pure: time comes in as `now`. ``GatewayContext`` keeps one behind a mutex; a test drives one
/// directly.
struct Admission<Instant: InstantProtocol> where Instant.Duration == Duration {
    struct Limits: Sendable, Hashable {
        var maximumConnections: Int
        var maximumConnectionsPerSource: Int
        var loginsPerSourcePerMinute: Int
        var registrationsPerSourcePerMinute: Int
    }

    let limits: Limits
    /// Addresses remembered for rates at most; beyond it full buckets are forgotten first.
    let maximumSources: Int
    private(set) var connections = 0
    private var perSource: [String: Int] = [:]
    private var logins: [String: TokenBucket<Instant>] = [:]
    private var registrations: [String: TokenBucket<Instant>] = [:]

    init(limits: Limits, maximumSources: Int = 100_000) {
        self.limits = limits
        self.maximumSources = maximumSources
    }

    /// Takes a connection slot for `source`, or says why not (the caller closes the connection).
    mutating func admit(_ source: String) -> GatewayError? {
        guard connections < limits.maximumConnections else {
            return GatewayError(.rateLimited, "this gateway is full; try another gateway of the region")
        }
        let open = perSource[source, default: 0]
        guard open < limits.maximumConnectionsPerSource else {
            return GatewayError(.rateLimited, "too many connections from your address (at most \(limits.maximumConnectionsPerSource))")
        }
        perSource[source] = open + 1
        connections += 1
        return nil
    }

    /// Gives back the slot ``admit(_:)`` took.
    mutating func release(_ source: String) {
        guard let open = perSource[source] else { return }
        perSource[source] = open > 1 ? open - 1 : nil
        connections -= 1
    }

    /// Connections open from `source` now.
    func connections(from source: String) -> Int { perSource[source, default: 0] }

    /// Addresses whose login or registration rates are remembered (bounded by ``maximumSources`` each).
    var rememberedSources: Int { max(logins.count, registrations.count) }

    /// Counts a login attempt from `source`; an error once it made too many this minute.
    mutating func login(from source: String, now: Instant) -> GatewayError? {
        guard Self.take(&logins, source, perMinute: limits.loginsPerSourcePerMinute, now: now, maximumSources: maximumSources) else {
            return GatewayError(.rateLimited, "too many logins from your address; wait a minute")
        }
        return nil
    }

    /// Whether `source` may create an account now (checked before a login that may create one).
    mutating func mayRegister(from source: String, now: Instant) -> GatewayError? {
        guard registrations[source]?.hasToken(now: now) ?? true else {
            return GatewayError(.rateLimited, "too many new accounts from your address; wait a minute")
        }
        return nil
    }

    /// `source` created an account (known only once the login said so).
    mutating func registered(from source: String, now: Instant) {
        if !Self.take(&registrations, source, perMinute: limits.registrationsPerSourcePerMinute, now: now, maximumSources: maximumSources) {
            registrations[source]?.empty()
        }
    }

    private static func take(
        _ buckets: inout [String: TokenBucket<Instant>], _ source: String, perMinute: Int, now: Instant, maximumSources: Int
    ) -> Bool {
        var bucket = buckets[source] ?? TokenBucket(perMinute: perMinute, now: now)
        guard bucket.take(now: now) else {
            buckets[source] = bucket
            return false
        }
        if buckets[source] == nil, buckets.count >= maximumSources {
            // A flood of addresses must not grow memory: forget the ones idle for a minute (full again) first.
            let full = buckets.filter { $0.value.last.duration(to: now) >= .seconds(60) }.map(\.key)
            for stale in full.prefix(max(1, maximumSources / 10)) { buckets[stale] = nil }
            if buckets.count >= maximumSources, let any = buckets.keys.first { buckets[any] = nil }
        }
        buckets[source] = bucket
        return true
    }
}
