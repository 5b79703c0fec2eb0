import Foundation
import MeridianCluster
import MeridianMembership
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
        /// The node the player's actor runs on, as the connection last reached it.
        var homeNode: String
        /// The home pushed the session (see ``ClientSession/sessionPushed(_:version:)``).
        let changed: @Sendable (PlayerSession, SessionVersion) -> Void
        /// ``homeNode`` left the membership: find the player's actor again.
        let homeLost: @Sendable () -> Void
        /// The directory moved the player's home to this region: re-route the connection.
        let homeMoved: @Sendable (_ region: String, _ epoch: Int64) -> Void
        /// A leader invited the player into its party.
        let invited: @Sendable (_ leader: UUID, _ leaderName: String) -> Void
        /// Sends `error` to the client and closes the connection.
        let close: @Sendable (GatewayError) -> Void
    }

    private final class Connections: Sendable {
        private struct Table {
            var byPlayer: [UUID: Connection] = [:]
            /// Pushes for a player with no connection here yet: a home pushes from the moment a
            /// login asked it to (``PlayerHome/watchSession(listener:)``), before the connection
            /// is registered. Taken by ``register(_:session:connection:)``.
            var early: [UUID: (PlayerSession, SessionVersion)] = [:]
        }

        /// The most early pushes kept; beyond it they are dropped (all but a login's are stale).
        static let earlyLimit = 4096

        private let table = Mutex(Table())

        func withConnections<T>(_ body: (inout [UUID: Connection]) -> T) -> T {
            table.withLock { body(&$0.byPlayer) }
        }

        func changed(_ player: UUID, _ session: PlayerSession, _ version: SessionVersion) {
            let connection = table.withLock { table -> Connection? in
                if let connection = table.byPlayer[player] { return connection }
                if table.early.count >= Self.earlyLimit { table.early.removeAll() }
                if let held = table.early[player], !held.1.isSuperseded(by: version) { return nil }
                table.early[player] = (session, version)
                return nil
            }
            connection?.changed(session, version)
        }

        /// Registers `connection` and hands it a push that came before it.
        func register(_ player: UUID, _ connection: Connection) -> (previous: Connection?, early: (PlayerSession, SessionVersion)?) {
            table.withLock { table in
                defer { table.byPlayer[player] = connection }
                return (table.byPlayer[player], table.early.removeValue(forKey: player))
            }
        }

        func invited(_ player: UUID, leader: UUID, leaderName: String) {
            withConnections { $0[player] }?.invited(leader, leaderName)
        }

        func replaced(_ player: UUID) {
            let connection = withConnections { $0.removeValue(forKey: player) }
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
            case .changed(let session, let version): connections.changed(player, session, version)
            case .replaced: connections.replaced(player)
            case .invited(let leader, let name): connections.invited(player, leader: leader, leaderName: name)
            }
        }
    }

    /// `connection` serves `player` from now on; an earlier connection of the player here is
    /// closed with SESSION_REPLACED.
    func register(_ player: UUID, session: AnyObject, connection: Connection) {
        let (previous, early) = connections.register(player, connection)
        if let previous, previous.token != connection.token {
            previous.close(GatewayError(.sessionReplaced, "you logged in on another connection; this one closes"))
        }
        if let (session, version) = early { connection.changed(session, version) }
    }

    /// `session`'s connection is gone (a newer connection of the player stays registered).
    /// - Returns: Whether it was the player's connection here (no newer one replaced it).
    @discardableResult
    func unregister(_ player: UUID, session: AnyObject) -> Bool {
        connections.withConnections { connections in
            guard connections[player]?.token == ObjectIdentifier(session) else { return false }
            connections[player] = nil
            return true
        }
    }

    /// Closes the player's connection here, if any.
    func close(player: UUID, with error: GatewayError) {
        let connection = connections.withConnections { $0[player] }
        connection?.close(error)
    }

    /// The directory moved the player's home (a transfer): a connection that still routes to
    /// the old home re-routes to the new one (``Connection/homeMoved``).
    func homeChanged(of player: UUID, to region: String, epoch: Int64) {
        let connection = connections.withConnections { $0[player] }
        guard let connection, connection.homeRegion != region else { return }
        connection.homeMoved(region, epoch)
    }

    /// `session`'s connection routes to the player's home in `region`, on `homeNode`, now.
    func rehomed(_ player: UUID, session: AnyObject, to region: String, homeNode: String) {
        connections.withConnections { connections in
            guard connections[player]?.token == ObjectIdentifier(session) else { return }
            connections[player]?.homeRegion = region
            connections[player]?.homeNode = homeNode
        }
    }

    /// Finds the player's actor again for every connection whose home was on a node that left
    /// the membership, until cancelled: the new (or restarted) actor does not know this gateway.
    func watchMembership(_ membership: MembershipService) async {
        for await change in membership.changes() where change.current.isTerminal {
            let node = change.member.id.node
            let lost = connections.withConnections { $0.values.filter { $0.homeNode == node } }
            for connection in lost { connection.homeLost() }
        }
    }

    /// Closes every connection authenticated by one of `logins`.
    func close(logins: Set<UUID>, with error: GatewayError) {
        let matching = connections.withConnections { $0.values.filter { logins.contains($0.login) } }
        for connection in matching { connection.close(error) }
    }
}
