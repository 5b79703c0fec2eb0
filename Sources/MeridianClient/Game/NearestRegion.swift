import Logging
import NIOCore

/// The result of ``GameClient/nearestRegion(from:pings:measure:)``.
public struct RegionChoice: Sendable, Hashable {
    /// The region with the lowest round trip.
    public var region: String
    /// The gateway of that region that answered.
    public var gateway: String
    /// Round trip per region that answered (its lowest sample) (regions with no reachable gateway are absent).
    public var rtt: [String: Duration]
}

extension GameClient {
    /// Measures each region and picks the nearest.
    ///
    /// For each region, its gateways are tried in order until one answers; `measure` returns
    /// that gateway's round-trip samples (it throws when the gateway is unreachable), and the
    /// region's RTT is their minimum: queueing on a busy client or gateway only ever adds to
    /// the path's delay, so the lowest sample is the steadiest estimate of the distance. Regions are measured concurrently. A region none of
    /// whose gateways answered is tried once more (a connect refused or timed out during a burst
    /// of logins must not send a client to a farther region). Returns nil when no region answered.
    public static func nearestRegion(
        from regions: [String: [String]],
        pings: Int = 5,
        measure: @escaping @Sendable (_ region: String, _ gateway: String, _ pings: Int) async throws -> [Duration]
    ) async -> RegionChoice? {
        let measured = await withTaskGroup(of: (String, String, Duration)?.self) { group in
            for (region, gateways) in regions {
                group.addTask {
                    for gateway in gateways + gateways {
                        // Cancelled (the caller gave up): no further gateway is tried.
                        guard !Task.isCancelled else { return nil }
                        guard let samples = try? await measure(region, gateway, pings), !samples.isEmpty else { continue }
                        return (region, gateway, samples.min() ?? .zero)
                    }
                    return nil
                }
            }
            var results: [(String, String, Duration)] = []
            for await result in group { if let result { results.append(result) } }
            return results
        }
        // Ties go to the smaller region name so the choice is deterministic.
        guard let best = measured.min(by: { ($0.2, $0.0) < ($1.2, $1.0) }) else { return nil }
        return RegionChoice(region: best.0, gateway: best.1, rtt: Dictionary(measured.map { ($0.0, $0.2) }, uniquingKeysWith: { first, _ in first }))
    }

    /// Measures each region with real connections (connect, hello, `pings` pings, close), with
    /// this configuration's ``LatencyProfile`` and local address, and picks the nearest.
    ///
    /// A region's pings start `spacing` apart, so every region's samples span the same window
    /// whatever its distance: back-to-back pings to a near region would all fall inside one
    /// stall of a busy machine (the samples of a far region, spread by their own round trips,
    /// would not), and the near region would look the farther one. The pause is taken on
    /// `clock` (a test gives one that does not wait).
    public static func nearestRegion(
        from regions: [String: [String]],
        pings: Int = 5,
        spacing: Duration = .milliseconds(100),
        clock: any Clock<Duration> = ContinuousClock(),
        group: any EventLoopGroup,
        configuration: Configuration = Configuration(),
        logger: Logger
    ) async -> RegionChoice? {
        await nearestRegion(from: regions, pings: pings) { region, gateway, pings in
            let (host, port) = try parseAddress(gateway)
            let probe = GameClient(group: group, configuration: configuration, logger: logger)
            do {
                try await probe.connect(host: host, port: port, region: region)
                try await probe.hello()
                var samples: [Duration] = []
                for index in 0..<max(1, pings) {
                    try Task.checkCancellation()
                    if index > 0 { try await clock.sleep(for: spacing) }
                    samples.append(try await probe.ping())
                }
                await probe.finish()
                return samples
            } catch {
                await probe.finish()
                throw error
            }
        }
    }

    /// Splits `host:port` (an IPv6 host in brackets).
    static func parseAddress(_ address: String) throws(MeridianClientError) -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw MeridianClientError(.connectFailed, "gateway address \"\(address)\" is not host:port")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}
