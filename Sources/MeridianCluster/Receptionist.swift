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
    /// Fires whenever any node's registrations (this one's included) change.
    private let changed = Broadcast<Void>()
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
        changed.yield(())
        broadcast()
    }

    /// Every actor registered under `key` on any reachable node, this one included.
    public func lookup<Act: DistributedActor>(_ type: Act.Type, key: String) -> [Act] where Act.ActorSystem == ClusterSystem {
        guard let system = system.withLock({ $0?.system }) else { return [] }
        return lookupIDs(key: key).compactMap { try? Act.resolve(id: $0, using: system) }
    }

    private func lookupIDs(key: String) -> [ClusterActorID] {
        guard let system = system.withLock({ $0?.system }) else { return [] }
        return state.withLock { state in
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
    }

    /// Waits until at least `count` actors are registered under `key`.
    /// - Throws: ``ClusterError/Code/timeout``.
    public func waitFor<Act: DistributedActor>(
        _ type: Act.Type,
        key: String,
        count: Int = 1,
        timeout: Duration = .seconds(10)
    ) async throws -> [Act] where Act.ActorSystem == ClusterSystem {
        let changes = changed.subscribe(buffer: 1)
        let ids = try await firstValue(
            of: { [weak self] in
                let found = self?.lookupIDs(key: key) ?? []
                return found.count >= count ? found : nil
            },
            checkedOn: changes, timeout: timeout,
            timeoutMessage: { [weak self] in
                "only \(self?.lookupIDs(key: key).count ?? 0) of \(count) actors registered under '\(key)' after \(timeout)"
            }
        )
        guard let system = system.withLock({ $0?.system }) else { return [] }
        return (ids ?? []).compactMap { try? Act.resolve(id: $0, using: system) }
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
        if changed {
            self.changed.yield(())
            broadcast()
        }
    }

    func receive(_ sync: Meridian_Cluster_V1_ReceptionistSync, from peer: PeerIdentity) {
        let accepted = state.withLock { state in
            if let known = state.remote[peer.node] {
                if known.incarnation > peer.incarnation { return false }
                if known.incarnation == peer.incarnation, known.version >= sync.version { return false }
            }
            state.remote[peer.node] = Remote(
                incarnation: peer.incarnation,
                version: sync.version,
                registrations: sync.registrations.map { ($0.key, $0.path) }
            )
            return true
        }
        if accepted { changed.yield(()) }
    }

    func memberGone(node: String, incarnation: UInt64) {
        let removed = state.withLock { state in
            guard let known = state.remote[node], known.incarnation <= incarnation else { return false }
            state.remote[node] = nil
            return true
        }
        if removed { changed.yield(()) }
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
