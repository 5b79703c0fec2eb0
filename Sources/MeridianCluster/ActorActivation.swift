import Distributed
import Logging
import Synchronization

/// Virtual actors: an actor created on first use. A node registers an activator for a path
/// prefix (e.g. `/player/`); a call or a local `resolve` for a path under it that has no live
/// actor asks the activator to create one — so callers address `/player/<id>` on the owning
/// node without anyone having created the actor first.
///
/// The activator must create the actor with ``ClusterSystem/makeActor(path:_:)`` at exactly
/// the path it is given, and keep it alive for as long as it should serve (the system holds
/// actors weakly); returning nil means "no such actor" (`actorNotFound`).
public typealias ActorActivator = @Sendable (_ path: String) throws -> (any DistributedActor)?

final class ActorActivators: Sendable {
    private let activators = Mutex<[(prefix: String, activate: ActorActivator)]>([])

    func register(prefix: String, _ activate: @escaping ActorActivator) {
        activators.withLock { $0.append((prefix, activate)); $0.sort { $0.prefix.count > $1.prefix.count } }
    }

    /// The activator for the longest registered prefix of `path`.
    func activator(for path: String) -> ActorActivator? {
        activators.withLock { list in list.first { path.hasPrefix($0.prefix) }?.activate }
    }
}

extension ClusterSystem {
    /// Creates actors under `prefix` on demand (see ``ActorActivator``).
    public func registerActivator(prefix: String, _ activate: @escaping ActorActivator) {
        activators.register(prefix: prefix, activate)
    }

    /// The live local actor at `path`, activating it if an activator covers the path.
    func localActor(at path: String) -> (any DistributedActor)? {
        if let actor = localActors.find(path) { return actor }
        guard let activate = activators.activator(for: path) else { return nil }
        do {
            // A concurrent activation of the same path loses the path reservation in
            // makeActor and throws; the winner's actor is then found below.
            if let actor = try activate(path) { return actor }
        } catch {
            logger.debug("activation failed", metadata: ["meridian.path": "\(path)", "meridian.error": "\(error)"])
        }
        return localActors.find(path)
    }
}
