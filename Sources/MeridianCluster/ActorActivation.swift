import Distributed
import Logging
import MeridianClock
import Metrics
import Synchronization

/// Virtual actors: an actor created on first use. A node registers an activator for a path
/// prefix (e.g. `/player/`); a call or a local `resolve` for a path under it that has no live
/// actor asks the activator to create one — so callers address `/player/<id>` on the owning
/// node without anyone having created the actor first.
///
/// The activator must create the actor with ``ClusterSystem/makeActor(path:_:)`` at exactly
/// the path it is given; returning nil means "no such actor" (`actorNotFound`). Who keeps the
/// actor alive depends on the registration: with a passivation timeout
/// (``ClusterSystem/registerActivator(prefix:passivateAfter:_:)``) the system keeps it until it
/// is passivated; without one (``ClusterSystem/registerActivator(prefix:_:)``) the activator's
/// owner does, and may let it go (a shard handed over to another node).
public typealias ActorActivator = @Sendable (_ path: String) throws -> (any DistributedActor)?

/// An activated actor that can be passivated — dropped from memory after going unused, and
/// activated afresh by the next call — because everything it must not lose is in a store.
public protocol PassivatableActor: DistributedActor where ActorSystem == ClusterSystem {
    /// Asked on the actor's own executor once nobody has found it for its passivation timeout:
    /// true lets it go. Say false while the actor holds state that lives only in memory.
    func readyToPassivate() -> Bool

    /// The actor left the registry, in the same step on its executor as its
    /// ``readyToPassivate()``. A caller that found this instance before may still hold it and
    /// call it (the next lookup activates a new one): from now on the actor must hand calls
    /// that change its in-memory state to its successor (`Self.resolve(id:using:)` finds it)
    /// rather than keep state nobody will see.
    func passivated()
}

final class ActorActivators: Sendable {
    final class Registration: Sendable {
        let prefix: String
        let passivateAfter: Duration?
        private let activator: ActorActivator
        /// One activation at a time per prefix: a second caller for the same path waits and
        /// finds the first one's actor instead of racing it for the path.
        private let serial = Mutex<Void>(())
        /// `meridian_actors_activated_total{prefix}`: actors this node created on first use.
        let activations: Counter
        /// `meridian_actors_passivated_total{prefix}`: idle actors this node let go.
        let passivations: Counter

        init(prefix: String, passivateAfter: Duration?, activator: @escaping ActorActivator) {
            self.prefix = prefix
            self.passivateAfter = passivateAfter
            self.activator = activator
            activations = Counter(label: "meridian_actors_activated_total", dimensions: [("prefix", prefix)])
            passivations = Counter(label: "meridian_actors_passivated_total", dimensions: [("prefix", prefix)])
        }

        /// The live actor at `path`, or the one the activator makes (kept by `actors` when it
        /// passivates).
        func activate(_ path: String, in actors: LocalActors) throws -> (any DistributedActor)? {
            try serial.withLock { _ in
                if let live = actors.find(path) { return live }
                guard let actor = try activator(path) else { return nil }
                if let passivateAfter { actors.keep(actor, path: path, passivateAfter: passivateAfter) }
                activations.increment()
                return actor
            }
        }
    }

    private let registrations = Mutex<[Registration]>([])

    func register(_ registration: Registration) {
        registrations.withLock { $0.append(registration); $0.sort { $0.prefix.count > $1.prefix.count } }
    }

    var all: [Registration] { registrations.withLock { $0 } }

    /// Forgets every registration (the system is shutting down: an activator may hold its system).
    func removeAll() -> [Registration] {
        registrations.withLock { list in defer { list = [] }; return list }
    }

    /// The registration with the longest prefix of `path`.
    func registration(for path: String) -> Registration? {
        registrations.withLock { list in list.first { path.hasPrefix($0.prefix) } }
    }
}

extension ClusterSystem {
    /// Creates actors under `prefix` on demand (see ``ActorActivator``); the activator's owner
    /// keeps them alive (the system holds actors weakly).
    public func registerActivator(prefix: String, _ activate: @escaping ActorActivator) {
        activators.register(.init(prefix: prefix, passivateAfter: nil, activator: activate))
    }

    /// Creates actors under `prefix` on demand and passivates each one that nobody has called or
    /// resolved for `passivateAfter` and that agrees (``PassivatableActor/readyToPassivate()``):
    /// a node keeps only the actors in use, not every one it ever activated.
    public func registerActivator<Act: PassivatableActor>(
        prefix: String,
        passivateAfter: Duration,
        _ activate: @escaping @Sendable (_ path: String) throws -> Act?
    ) {
        let registration = ActorActivators.Registration(prefix: prefix, passivateAfter: passivateAfter) { try activate($0) }
        activators.register(registration)
        startPassivation(of: registration, every: min(max(passivateAfter / 2, .milliseconds(10)), .seconds(30)))
    }

    /// The live local actor at `path`, activating it if an activator covers the path.
    func localActor(at path: String) -> (any DistributedActor)? {
        if let actor = localActors.find(path) { return actor }
        return activate(path)
    }

    /// The live local actor at `path` for a remote call, activating it if an activator covers
    /// the path; `counted` calls must be ended with `localActors.callEnded` (see
    /// ``LocalActors/findForCall(_:)``).
    func localActorForCall(at path: String) -> (actor: any DistributedActor, counted: Bool)? {
        if let found = localActors.findForCall(path) { return found }
        guard activate(path) != nil else { return nil }
        return localActors.findForCall(path)
    }

    private func activate(_ path: String) -> (any DistributedActor)? {
        guard let registration = activators.registration(for: path) else { return nil }
        do {
            return try registration.activate(path, in: localActors)
        } catch {
            logger.debug("activation failed", metadata: ["meridian.path": "\(path)", "meridian.error": "\(error)"])
            return nil
        }
    }

    /// Lets the activated `actor` go at once, as passivation would, however recently it was
    /// used: it leaves the registry, and the next call to its path activates a new instance. For
    /// an actor that learns its memory is stale and a fresh instance would serve better (a
    /// deposed player home on the node that serves the player again). Called by the actor
    /// itself, which from then on hands calls to its successor, as after
    /// ``PassivatableActor/passivated()``.
    /// - Returns: Whether it went (false: its path already serves another instance).
    @discardableResult
    public func retire<Act: PassivatableActor>(_ actor: Act) -> Bool {
        let retired = localActors.retire(actor.id.path, actor: actor)
        if retired, let registration = activators.registration(for: actor.id.path) { registration.passivations.increment() }
        return retired
    }

    /// Passivates the idle activated actors that agree, now (every registration's; each
    /// registration's own sweep does this for its prefix).
    /// - Returns: How many went.
    @discardableResult
    public func passivateIdleActors() async -> Int {
        var passivated = 0
        for registration in activators.all where registration.passivateAfter != nil {
            passivated += await passivateIdleActors(of: registration)
        }
        return passivated
    }

    private func passivateIdleActors(of registration: ActorActivators.Registration) async -> Int {
        var passivated = 0
        for idle in localActors.idle(under: registration.prefix) {
            // Kept only under a timeout, which only PassivatableActors are registered with.
            guard let actor = idle.actor as? any PassivatableActor else { continue }
            if await passivate(actor, idle) { passivated += 1 }
        }
        if passivated > 0 {
            registration.passivations.increment(by: passivated)
            logger.debug("passivated idle actors", metadata: ["meridian.prefix": "\(registration.prefix)", "meridian.count": "\(passivated)"])
        }
        return passivated
    }

    /// Asks the actor on its own executor and drops it in the same step, so no call to it can
    /// run between its answer and its leaving the registry.
    private func passivate<Act: PassivatableActor>(_ actor: Act, _ idle: LocalActors.Idle) async -> Bool {
        await actor.whenLocal { actor in
            // `passivate` refuses an actor found since it was listed: in use after all.
            guard actor.readyToPassivate(), self.localActors.passivate(idle) else { return false }
            actor.passivated()
            return true
        } ?? false
    }

    private func startPassivation(of registration: ActorActivators.Registration, every interval: Duration) {
        let clock = clock
        let task = Task { [weak self] in
            var next = clock.now.advanced(by: interval)
            while !Task.isCancelled {
                try? await clock.sleep(until: next)
                guard let self, !Task.isCancelled else { return }
                _ = await self.passivateIdleActors(of: registration)
                next = max(next.advanced(by: interval), clock.now)
            }
        }
        addPassivationTask(task)
    }
}
