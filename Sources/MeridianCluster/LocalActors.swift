import Distributed
import Synchronization

/// The actors living on this node, by path. Held weakly: an actor lives as long as the code
/// that created it keeps it, and leaves the registry when it deinitializes (`resignID`).
final class LocalActors: Sendable {
    private struct Weak {
        weak var actor: (any DistributedActor)?
    }

    private let actors = Mutex<[String: Weak]>([:])
    private let reserved = Mutex<Set<String>>([])

    /// Reserves `path` for an actor being initialized; false when it is taken.
    func reserve(_ path: String) -> Bool {
        let live = actors.withLock { $0[path]?.actor != nil }
        guard !live else { return false }
        return reserved.withLock { $0.insert(path).inserted }
    }

    func ready(_ actor: any DistributedActor, path: String) {
        actors.withLock { $0[path] = Weak(actor: actor) }
        _ = reserved.withLock { $0.remove(path) }
    }

    func resign(_ path: String) {
        _ = actors.withLock { $0.removeValue(forKey: path) }
        _ = reserved.withLock { $0.remove(path) }
    }

    func find(_ path: String) -> (any DistributedActor)? {
        actors.withLock { $0[path]?.actor }
    }

    var count: Int { actors.withLock { $0.values.count { $0.actor != nil } } }
}
