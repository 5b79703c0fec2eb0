import NIOCore
import Synchronization

/// Simulated network conditions between this node and its peers, for local multi-region runs
/// and tests (this machine has no `tc netem`): a one-way delay per region pair, applied by the
/// sender, and partitions that stop everything to and from a peer or a region.
///
/// A partitioned connection behaves like a TCP connection whose packets stop arriving: nothing
/// passes either way, and nothing is lost — what was sent arrives, in order, when the partition
/// heals, unless the connection was closed meanwhile (the heartbeat's idle timeout does that
/// for a long partition, and both sides start afresh on a new connection). Dropping frames
/// from a live connection instead would break what a stream guarantees (a frame that defines
/// something for later frames, such as a call target's id, lost while the later ones arrive).
public final class LinkEmulation: Sendable {
    public struct Conditions: Sendable, Equatable {
        public var delay: TimeAmount
        /// Nothing passes either way (held until the partition heals).
        public var partitioned: Bool
    }

    private struct State {
        var blockedNodes: Set<String> = []
        var blockedRegions: Set<String> = []
        var extraDelay: [String: TimeAmount] = [:]
    }

    private let localRegion: String
    private let oneWayDelay: @Sendable (_ from: String, _ to: String) -> TimeAmount
    private let state = Mutex(State())
    /// Told when a partition heals: each connection's handler releases what it held.
    private let listeners = Mutex<[ObjectIdentifier: @Sendable () -> Void]>([:])

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
        if !partitioned { conditionsChanged() }
    }

    /// Drops (or stops dropping) all traffic with every node of `region`.
    public func setPartitioned(region: String, _ partitioned: Bool) {
        state.withLock { state in
            if partitioned { state.blockedRegions.insert(region) } else { state.blockedRegions.remove(region) }
        }
        if !partitioned { conditionsChanged() }
    }

    /// Adds `delay` on top of the region delay for traffic to `node` (a slow link).
    public func setExtraDelay(node: String, _ delay: TimeAmount?) {
        state.withLock { $0.extraDelay[node] = delay }
    }

    /// The faults in force now: partitioned nodes and regions, and extra delay per node.
    public struct Faults: Sendable, Equatable {
        public var partitionedNodes: Set<String> = []
        public var partitionedRegions: Set<String> = []
        public var extraDelay: [String: TimeAmount] = [:]
        public init(partitionedNodes: Set<String> = [], partitionedRegions: Set<String> = [], extraDelay: [String: TimeAmount] = [:]) {
            self.partitionedNodes = partitionedNodes
            self.partitionedRegions = partitionedRegions
            self.extraDelay = extraDelay
        }
    }

    public var faults: Faults {
        state.withLock { Faults(partitionedNodes: $0.blockedNodes, partitionedRegions: $0.blockedRegions, extraDelay: $0.extraDelay) }
    }

    /// Replaces every fault at once (`meridian chaos` sets a node's whole fault state in one
    /// step, so a lost or repeated command cannot leave a partition behind).
    public func replaceFaults(_ faults: Faults) {
        let healed = state.withLock { state -> Bool in
            let healed = !state.blockedNodes.isSubset(of: faults.partitionedNodes) || !state.blockedRegions.isSubset(of: faults.partitionedRegions)
            state.blockedNodes = faults.partitionedNodes
            state.blockedRegions = faults.partitionedRegions
            state.extraDelay = faults.extraDelay
            return healed
        }
        if healed { conditionsChanged() }
    }

    public func conditions(for peer: PeerIdentity) -> Conditions {
        let (partitioned, extra) = state.withLock {
            ($0.blockedNodes.contains(peer.node) || $0.blockedRegions.contains(peer.region), $0.extraDelay[peer.node] ?? .zero)
        }
        return Conditions(delay: oneWayDelay(localRegion, peer.region) + extra, partitioned: partitioned)
    }

    /// Calls `changed` (on any thread) whenever a partition heals, until ``stopListening(_:)``.
    func listen(_ owner: ObjectIdentifier, _ changed: @escaping @Sendable () -> Void) {
        listeners.withLock { $0[owner] = changed }
    }

    func stopListening(_ owner: ObjectIdentifier) {
        _ = listeners.withLock { $0.removeValue(forKey: owner) }
    }

    private func conditionsChanged() {
        for listener in listeners.withLock({ Array($0.values) }) { listener() }
    }
}
