import Foundation
import MeridianCluster
import MeridianRegion
import Synchronization

/// The logged-in connections of this gateway, by player: hands them the session changes that
/// players' homes push here (see ``SessionListener``), and closes them when the identity layer
/// or a newer login says so. A player has one connection: a newer login replaces the older one.
final class SessionChangeRouter: Sendable {
    /// One logged-in connection.
    struct Connection: Sendable {
        let token: ObjectIdentifier
        /// The login (access tokens' `session`) the connection authenticated with.
        let login: UUID
        /// The player's home region as the connection routes to it.
        var homeRegion: String
        let changed: @Sendable () -> Void
        /// The directory moved the player's home to this region: re-route the connection.
        let homeMoved: @Sendable (_ region: String, _ epoch: Int64) -> Void
        /// A leader invited the player into its party.
        let invited: @Sendable (_ leader: UUID, _ leaderName: String) -> Void
        /// Sends `error` to the client and closes the connection.
        let close: @Sendable (GatewayError) -> Void
    }

    private final class Connections: Sendable {
        let byPlayer = Mutex<[UUID: Connection]>([:])

        func changed(_ player: UUID) {
            byPlayer.withLock { $0[player] }?.changed()
        }

        func invited(_ player: UUID, leader: UUID, leaderName: String) {
            byPlayer.withLock { $0[player] }?.invited(leader, leaderName)
        }

        func replaced(_ player: UUID) {
            let connection = byPlayer.withLock { $0.removeValue(forKey: player) }
            connection?.close(GatewayError(.sessionReplaced, "you logged in on another connection; this one closes"))
        }
    }

    private let connections = Connections()
    /// What homes are asked to tell (``PlayerHome/watchSession(listener:)``).
    let listener: SessionListener

    init(system: ClusterSystem) {
        let connections = self.connections
        listener = SessionListener(actorSystem: system) { player, event in
            switch event {
            case .changed: connections.changed(player)
            case .replaced: connections.replaced(player)
            case .invited(let leader, let name): connections.invited(player, leader: leader, leaderName: name)
            }
        }
    }

    /// `connection` serves `player` from now on; an earlier connection of the player here is
    /// closed with SESSION_REPLACED.
    func register(_ player: UUID, session: AnyObject, connection: Connection) {
        let previous = connections.byPlayer.withLock { connections in
            defer { connections[player] = connection }
            return connections[player]
        }
        if let previous, previous.token != connection.token {
            previous.close(GatewayError(.sessionReplaced, "you logged in on another connection; this one closes"))
        }
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

    /// Closes the player's connection here, if any.
    func close(player: UUID, with error: GatewayError) {
        let connection = connections.byPlayer.withLock { $0[player] }
        connection?.close(error)
    }

    /// The directory moved the player's home (a transfer): a connection that still routes to
    /// the old home re-routes to the new one (``Connection/homeMoved``).
    func homeChanged(of player: UUID, to region: String, epoch: Int64) {
        let connection = connections.byPlayer.withLock { $0[player] }
        guard let connection, connection.homeRegion != region else { return }
        connection.homeMoved(region, epoch)
    }

    /// `session`'s connection routes to the player's home in `region` now.
    func rehomed(_ player: UUID, session: AnyObject, to region: String) {
        connections.byPlayer.withLock { connections in
            guard connections[player]?.token == ObjectIdentifier(session) else { return }
            connections[player]?.homeRegion = region
        }
    }

    /// Closes every connection authenticated by one of `logins`.
    func close(logins: Set<UUID>, with error: GatewayError) {
        let matching = connections.byPlayer.withLock { $0.values.filter { logins.contains($0.login) } }
        for connection in matching { connection.close(error) }
    }
}
