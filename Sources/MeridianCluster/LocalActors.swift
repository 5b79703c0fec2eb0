import Distributed
import MeridianClock
import Synchronization

/// The actors living on this node, by path. Held weakly: an actor lives as long as the code
/// that created it keeps it, and leaves the registry when it deinitializes (`resignID`) —
/// except actors activated under a passivation timeout (see ``ActorActivator``), which the
/// registry keeps until they are passivated.
final class LocalActors: Sendable {
    private struct Entry {
        weak var actor: (any DistributedActor)?
        /// Set for an actor activated under a passivation timeout.
        var kept: Kept?
    }

    /// An activated actor the registry keeps alive until it is passivated.
    private struct Kept {
        let actor: any DistributedActor
        /// How long it may go unused before it is asked to passivate.
        let passivateAfter: Duration
        /// The last time it was found for a call.
        var lastUsed: AnyClock.Instant
        /// Counts every find: a listed idle actor found since it was listed is in use after
        /// all (instants alone cannot tell, on a clock that does not move between two finds).
        var uses: UInt64 = 0
        /// Remote calls to it that have started and not finished.
        var callsInFlight = 0
    }

    /// An activated actor that has gone unused for its passivation timeout.
    struct Idle {
        let path: String
        let actor: any DistributedActor
        let uses: UInt64
    }

    private let actors = Mutex<[String: Entry]>([:])
    private let reserved = Mutex<Set<String>>([])
    private let clock: AnyClock

    init(clock: AnyClock) {
        self.clock = clock
    }

    /// Reserves `path` for an actor being initialized; false when it is taken.
    func reserve(_ path: String) -> Bool {
        let live = actors.withLock { $0[path]?.actor != nil }
        guard !live else { return false }
        return reserved.withLock { $0.insert(path).inserted }
    }

    func ready(_ actor: any DistributedActor, path: String) {
        actors.withLock { $0[path] = Entry(actor: actor) }
        _ = reserved.withLock { $0.remove(path) }
    }

    /// Keeps the activated actor at `path` alive until it is passivated.
    func keep(_ actor: any DistributedActor, path: String, passivateAfter: Duration) {
        actors.withLock { actors in
            guard actors[path]?.actor === actor else { return }
            actors[path]?.kept = Kept(actor: actor, passivateAfter: passivateAfter, lastUsed: clock.now)
        }
    }

    /// An actor deinitialized: its entry goes, unless the path already serves a successor (a
    /// passivated actor that outlived its passivation). False when a successor holds the path.
    @discardableResult
    func resign(_ path: String) -> Bool {
        // A deinitializing actor's weak references already read nil; a live one is a successor.
        let resigned = actors.withLock { actors in
            if actors[path]?.actor != nil { return false }
            actors[path] = nil
            return true
        }
        _ = reserved.withLock { $0.remove(path) }
        return resigned
    }

    /// The live actor at `path`; finding a kept actor counts as using it.
    func find(_ path: String) -> (any DistributedActor)? {
        find(path, forCall: false)?.actor
    }

    /// The live actor at `path` for a remote call: a kept actor counts the call as in flight
    /// (it is not passivated meanwhile) until ``callEnded(_:actor:)``.
    /// - Returns: The actor, and whether the call must be ended.
    func findForCall(_ path: String) -> (actor: any DistributedActor, counted: Bool)? {
        find(path, forCall: true)
    }

    private func find(_ path: String, forCall: Bool) -> (actor: any DistributedActor, counted: Bool)? {
        actors.withLock { actors in
            guard let entry = actors[path], let actor = entry.actor else { return nil }
            guard entry.kept != nil else { return (actor, false) }
            actors[path]?.kept?.lastUsed = clock.now
            actors[path]?.kept?.uses += 1
            if forCall { actors[path]?.kept?.callsInFlight += 1 }
            return (actor, forCall)
        }
    }

    func callEnded(_ path: String, actor: any DistributedActor) {
        actors.withLock { actors in
            guard actors[path]?.kept?.actor === actor else { return }
            actors[path]?.kept?.callsInFlight -= 1
            actors[path]?.kept?.lastUsed = clock.now
            actors[path]?.kept?.uses += 1
        }
    }

    /// Kept actors under `prefix` with no call in flight, unused for their passivation timeout now.
    func idle(under prefix: String) -> [Idle] {
        let now = clock.now
        return actors.withLock { actors in
            actors.compactMap { path, entry in
                guard let kept = entry.kept, kept.callsInFlight == 0, kept.lastUsed.duration(to: now) >= kept.passivateAfter,
                      path.hasPrefix(prefix)
                else { return nil }
                return Idle(path: path, actor: kept.actor, uses: kept.uses)
            }
        }
    }

    /// Drops `idle` from the registry if nobody found it since it was listed: true when it went
    /// (the next call to its path activates a new instance).
    func passivate(_ idle: Idle) -> Bool {
        actors.withLock { actors in
            guard let kept = actors[idle.path]?.kept, kept.actor === idle.actor, kept.uses == idle.uses else { return false }
            actors[idle.path] = nil
            return true
        }
    }

    /// Drops `actor` from the registry at once, found or not since: true when it went (the next
    /// call to its path activates a new instance); false when the path serves another actor.
    func retire(_ path: String, actor: any DistributedActor) -> Bool {
        actors.withLock { actors in
            guard let entry = actors[path], entry.actor === actor else { return false }
            actors[path] = nil
            return true
        }
    }

    /// Stops keeping every activated actor alive (the system is shutting down: a kept actor holds
    /// its system, so keeping it would keep the whole node in memory). Returns them so they are
    /// released after the lock (an actor's deinit resigns its path, which takes the lock).
    func releaseKept() -> [any DistributedActor] {
        actors.withLock { actors in
            var released: [any DistributedActor] = []
            for (path, entry) in actors {
                guard let kept = entry.kept else { continue }
                released.append(kept.actor)
                actors[path]?.kept = nil
            }
            return released
        }
    }

    var count: Int { actors.withLock { $0.values.count { $0.actor != nil } } }
}
