/// A simulated location: the one-way delay from the client to each region.
///
/// A bot "near us-east" gets `["us-east": .zero, "eu-west": .milliseconds(40), …]`; every
/// message to and from a gateway of region R is then delayed by R's entry (both directions,
/// so the round trip adds twice the delay). Regions without an entry get ``defaultDelay``.
public struct LatencyProfile: Sendable, Hashable {
    public var oneWayDelay: [String: Duration]
    public var defaultDelay: Duration

    public init(oneWayDelay: [String: Duration], defaultDelay: Duration = .zero) {
        self.oneWayDelay = oneWayDelay
        self.defaultDelay = defaultDelay
    }

    /// The one-way delay to a gateway of `region`.
    public func delay(to region: String) -> Duration {
        oneWayDelay[region] ?? defaultDelay
    }
}
