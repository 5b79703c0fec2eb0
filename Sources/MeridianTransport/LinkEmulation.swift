import NIOCore
import Synchronization

/// Simulated network conditions between this node and its peers, for local multi-region runs
/// and tests (this machine has no `tc netem`): a one-way delay per region pair, applied by the
/// sender, and partitions that silently drop everything to and from a peer or a region.
public final class LinkEmulation: Sendable {
    public struct Conditions: Sendable, Equatable {
        public var delay: TimeAmount
        public var dropped: Bool
    }

    private struct State {
        var blockedNodes: Set<String> = []
        var blockedRegions: Set<String> = []
        var extraDelay: [String: TimeAmount] = [:]
    }

    private let localRegion: String
    private let oneWayDelay: @Sendable (_ from: String, _ to: String) -> TimeAmount
    private let state = Mutex(State())

    /// - Parameters:
    ///   - localRegion: this node's region.
    ///   - oneWayDelay: simulated one-way delay between two regions (zero within one).
    public init(localRegion: String, oneWayDelay: @escaping @Sendable (_ from: String, _ to: String) -> TimeAmount) {
        self.localRegion = localRegion
        self.oneWayDelay = oneWayDelay
    }

    /// Drops (or stops dropping) all traffic with `node`.
    public func setPartitioned(node: String, _ partitioned: Bool) {
        state.withLock { state in
            if partitioned { state.blockedNodes.insert(node) } else { state.blockedNodes.remove(node) }
        }
    }

    /// Drops (or stops dropping) all traffic with every node of `region`.
    public func setPartitioned(region: String, _ partitioned: Bool) {
        state.withLock { state in
            if partitioned { state.blockedRegions.insert(region) } else { state.blockedRegions.remove(region) }
        }
    }

    /// Adds `delay` on top of the region delay for traffic to `node` (a slow link).
    public func setExtraDelay(node: String, _ delay: TimeAmount?) {
        state.withLock { $0.extraDelay[node] = delay }
    }

    public func conditions(for peer: PeerIdentity) -> Conditions {
        let (dropped, extra) = state.withLock {
            ($0.blockedNodes.contains(peer.node) || $0.blockedRegions.contains(peer.region), $0.extraDelay[peer.node] ?? .zero)
        }
        return Conditions(delay: oneWayDelay(localRegion, peer.region) + extra, dropped: dropped)
    }
}
