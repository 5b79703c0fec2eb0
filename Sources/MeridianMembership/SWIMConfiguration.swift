/// Tuning of the SWIM failure detector and gossip.
///
/// ## Failure-detection bound
///
/// Let `r` be the round trip from the observer's region to the crashed member's region
/// (`roundTrip(a, b)`, zero in-region) and `n` the number of members. Once some member starts
/// a probe of the crashed member:
///
/// - it is `suspect` after `probeInterval + 2·r` (direct ping timeout `pingTimeout + r`, then
///   the indirect probes through helpers in the target's or the observer's region need
///   another `r` and the rest of the period, `probeInterval − pingTimeout`);
/// - it is `down` after a further `suspicionTimeout + 4·r`;
/// - it is `removed` after a further `removalDelay`.
///
/// With the defaults that is **2.3 s in-region** and **2.3 s + 6·r cross-region**
/// (2.3 s + 0.84 s = 3.14 s for a 140 ms round trip), each deadline observed at the next
/// driver tick (≤ 2 ticks in all, 100 ms at the usual 50 ms tick). The first probe starts
/// within one `probeInterval` on average, since every other member probes one member per
/// period, and at most `(2n − 3)·probeInterval` after the crash, since each member probes in
/// shuffled round-robin order. Worst case from crash to `down`, in-region, defaults:
/// `(2n − 2)·0.3 s + 2 s` — 3.2 s for 3 members, typically about 2.6 s.
/// `detectionBound(memberCount:roundTrip:)` computes it (without tick granularity).
///
/// A helper in a third region lengthens its indirect path to
/// `roundTrip(observer, helper) + roundTrip(helper, target)`; helpers are chosen from the
/// target's region first, so that only happens when the target's region has no other member.
public struct SWIMConfiguration: Sendable {
    /// How often each member probes one other member.
    public var probeInterval: Duration = .milliseconds(300)
    /// How long a direct ping waits for its ack in-region before asking helpers; cross-region
    /// adds the round trip. Must be shorter than `probeInterval` to leave room for the
    /// indirect probes.
    public var pingTimeout: Duration = .milliseconds(250)
    /// How many helpers are asked to probe a member that did not answer a direct ping.
    public var indirectProbeCount: Int = 3
    /// How long a suspicion may go unrefuted before the member is `down`, in-region;
    /// cross-region adds four round trips (the refutation has to travel there and back,
    /// possibly through gossip relays).
    public var suspicionTimeout: Duration = .seconds(2)
    /// The most a member's local health score grows (Lifeguard's local health awareness): each
    /// probe that gets no answer from the target nor from any helper adds one, each answered
    /// probe takes one away, and a member waits `suspicionTimeout × (1 + score)` before it
    /// declares a suspect down. A member cut off from everyone therefore declares nobody down
    /// within the bounds below, while the members that still reach each other declare it down
    /// within them; a healthy member (every probe of a crashed one nacked by helpers) keeps
    /// score 0 and the bounds hold for it. 0 turns it off.
    public var maxLocalHealth: Int = 8
    /// How long a `down` member stays visible (so every node hears of it) before `removed`.
    public var removalDelay: Duration = .seconds(15)
    /// Most updates piggybacked on one message.
    public var maxGossipPerMessage: Int = 8
    /// Each update is piggybacked about `multiplier · ceil(log2(n + 1))` times, enough for
    /// infection-style dissemination to reach every member with high probability.
    public var gossipRetransmitMultiplier: Int = 3
    /// How often a joining node re-sends `join` to its seeds (and an `up` seed contacts seeds
    /// it has no member for). A seed that heard from no other seed becomes `up` on its own
    /// after twice this interval.
    public var joinRetryInterval: Duration = .seconds(1)

    public init() {}

    /// How long a direct ping waits before helpers are asked.
    public func directPingTimeout(roundTrip: Duration) -> Duration {
        pingTimeout + roundTrip
    }

    /// How long a suspicion may last before the member is `down`.
    public func suspicionTimeout(roundTrip: Duration) -> Duration {
        suspicionTimeout + roundTrip * 4
    }

    /// From the start of a probe nobody answers to `suspect`, with helpers in the target's
    /// or the observer's region.
    public func probeFailureTime(roundTrip: Duration) -> Duration {
        max(probeInterval, pingTimeout) + roundTrip * 2
    }

    /// Worst case from a crash to `down` at the first observer, excluding tick granularity;
    /// see the type's documentation.
    public func detectionBound(memberCount: Int, roundTrip: Duration = .zero) -> Duration {
        let periodsUntilProbed = max(2 * (memberCount - 1) - 1, 1)
        return probeInterval * periodsUntilProbed
            + probeFailureTime(roundTrip: roundTrip)
            + suspicionTimeout(roundTrip: roundTrip)
    }

    /// Times each update is piggybacked in a cluster of `memberCount` members.
    func gossipRetransmitLimit(memberCount: Int) -> Int {
        let value = UInt64(max(memberCount, 1) + 1)
        let ceilLog2 = 64 - (value - 1).leadingZeroBitCount
        return max(gossipRetransmitMultiplier * ceilLog2, 1)
    }
}
