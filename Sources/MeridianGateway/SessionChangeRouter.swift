import Foundation
import MeridianCluster
import MeridianRegion
import Synchronization

/// Hands the session changes that players' homes push to this gateway (see ``SessionListener``)
/// to the connection serving each player.
final class SessionChangeRouter: Sendable {
    private struct Connection {
        let token: ObjectIdentifier
        let changed: @Sendable () -> Void
    }

    private final class Connections: Sendable {
        let byPlayer = Mutex<[UUID: Connection]>([:])

        func changed(_ player: UUID) {
            byPlayer.withLock { $0[player] }?.changed()
        }
    }

    private let connections = Connections()
    /// What homes are asked to tell (``PlayerHome/watchSession(listener:)``).
    let listener: SessionListener

    init(system: ClusterSystem) {
        let connections = self.connections
        listener = SessionListener(actorSystem: system) { player in connections.changed(player) }
    }

    /// `session`'s connection serves `player` from now on (replacing an earlier connection).
    func register(_ player: UUID, session: AnyObject, changed: @escaping @Sendable () -> Void) {
        connections.byPlayer.withLock { $0[player] = Connection(token: ObjectIdentifier(session), changed: changed) }
    }

    /// `session`'s connection is gone (a newer connection of the player stays registered).
    /// - Returns: Whether it was the player's connection here (no newer one replaced it).
    @discardableResult
    func unregister(_ player: UUID, session: AnyObject) -> Bool {
        connections.byPlayer.withLock { connections in
            guard connections[player]?.token == ObjectIdentifier(session) else { return false }
            connections[player] = nil
            return true
        }
    }
}
