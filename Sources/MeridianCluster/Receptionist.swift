import Distributed
import Logging
import MeridianTransport
import MeridianWire
import Synchronization

/// Finds named actors anywhere in the cluster.
///
/// Each node registers its own actors under keys (`register(_:key:)`); the full list of a
/// node's registrations travels to every connected peer when it changes and when a connection
/// opens, tagged with a version so an older list never replaces a newer one. A node's entries
/// disappear when membership declares it down. Lookups are local and never block.
public final class Receptionist: Sendable {
    private struct Remote {
        var incarnation: UInt64
        var version: UInt64
        var registrations: [(key: String, path: String)]
    }

    private struct State {
        var local: [String: Set<String>] = [:]
        var version: UInt64 = 0
        var remote: [String: Remote] = [:]
    }

    private let state = Mutex(State())
    private let system = Mutex<ClusterSystemReference?>(nil)
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func attach(_ system: ClusterSystem) {
        self.system.withLock { $0 = ClusterSystemReference(system: system) }
    }

    /// Makes `actor` (which must live on this node) findable under `key` from every node.
    public func register<Act: DistributedActor>(_ actor: Act, key: String) where Act.ActorSystem == ClusterSystem {
        state.withLock { state in
            state.local[key, default: []].insert(actor.id.path)
            state.version += 1
        }
        broadcast()
    }

    /// Every actor registered under `key` on any reachable node, this one included.
    public func lookup<Act: DistributedActor>(_ type: Act.Type, key: String) -> [Act] where Act.ActorSystem == ClusterSystem {
        guard let system = system.withLock({ $0?.system }) else { return [] }
        let ids: [ClusterActorID] = state.withLock { state in
            var ids = (state.local[key] ?? []).sorted().map {
                ClusterActorID(node: system.nodeID, incarnation: system.incarnation, path: $0)
            }
            for (node, remote) in state.remote.sorted(by: { $0.key < $1.key }) {
                for registration in remote.registrations where registration.key == key {
                    ids.append(ClusterActorID(node: node, incarnation: remote.incarnation, path: registration.path))
                }
            }
            return ids
        }
        return ids.compactMap { try? Act.resolve(id: $0, using: system) }
    }

    /// Waits until at least `count` actors are registered under `key`.
    /// - Throws: ``ClusterError/Code/timeout``.
    public func waitFor<Act: DistributedActor>(
        _ type: Act.Type,
        key: String,
        count: Int = 1,
        timeout: Duration = .seconds(10)
    ) async throws -> [Act] where Act.ActorSystem == ClusterSystem {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found = lookup(type, key: key)
            if found.count >= count { return found }
            guard ContinuousClock.now < deadline else {
                throw ClusterError(.timeout, "only \(found.count) of \(count) actors registered under '\(key)' after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func actorResigned(_ id: ClusterActorID) {
        let changed = state.withLock { state in
            var changed = false
            for key in state.local.keys where state.local[key]?.remove(id.path) != nil {
                changed = true
                if state.local[key]?.isEmpty == true { state.local[key] = nil }
            }
            if changed { state.version += 1 }
            return changed
        }
        if changed { broadcast() }
    }

    func receive(_ sync: Meridian_Cluster_V1_ReceptionistSync, from peer: PeerIdentity) {
        state.withLock { state in
            if let known = state.remote[peer.node] {
                if known.incarnation > peer.incarnation { return }
                if known.incarnation == peer.incarnation, known.version >= sync.version { return }
            }
            state.remote[peer.node] = Remote(
                incarnation: peer.incarnation,
                version: sync.version,
                registrations: sync.registrations.map { ($0.key, $0.path) }
            )
        }
    }

    func memberGone(node: String, incarnation: UInt64) {
        state.withLock { state in
            if let known = state.remote[node], known.incarnation <= incarnation {
                state.remote[node] = nil
            }
        }
    }

    func peerConnected(_ session: PeerSession) {
        try? session.connection.send(snapshot())
    }

    private func broadcast() {
        guard let system = system.withLock({ $0?.system }) else { return }
        let envelope = snapshot()
        for session in system.allSessions {
            try? session.connection.send(envelope)
        }
    }

    private func snapshot() -> Envelope {
        state.withLock { state in
            var envelope = Envelope()
            envelope.receptionist.version = state.version
            for (key, paths) in state.local.sorted(by: { $0.key < $1.key }) {
                for path in paths.sorted() {
                    var registration = Meridian_Cluster_V1_ReceptionistSync.Registration()
                    registration.key = key
                    registration.path = path
                    envelope.receptionist.registrations.append(registration)
                }
            }
            return envelope
        }
    }
}
