import Distributed
import Foundation
import Logging
import MeridianCluster
import MeridianStorage
import MeridianTopology
import Synchronization

/// A node's share of its region's data: its store, the group-commit ledger writer, the
/// player actors it hosts (activated on first call at `/player/<id>`), the trade inbox and the
/// trade relay.
public final class RegionServices: Sendable {
    public let region: String
    public let node: String
    public let store: any RegionStore
    public let writer: LedgerWriter
    var topology: Topology { system.topology(startedWith: startTopology) }
    private let startTopology: Topology
    let system: ClusterSystem
    let faults: FaultInjection
    let relay: TradeRelay
    let logger: Logger
    /// The local players that are queued or in a match, kept by their actors as their session
    /// changes: what needs watching, without asking every idle player.
    private let busy = Mutex<[UUID: BusyPlayer]>([:])
    private let inbox = Mutex<TradeInbox?>(nil)
    private let homeLookup = Mutex<HomeLookup?>(nil)

    /// Where the identity directory says a player lives now. A struct around the closure, not
    /// the bare closure, in the `Mutex` (see ``StoredClosure`` for why).
    private struct HomeLookup: Sendable {
        let call: @Sendable (UUID) async -> String?
    }

    private init(system: ClusterSystem, topology: Topology, store: any RegionStore, faults: FaultInjection, logger: Logger) {
        self.region = system.region
        self.node = system.nodeID
        self.store = store
        self.writer = LedgerWriter(store: store, logger: logger)
        self.startTopology = topology
        self.system = system
        self.faults = faults
        self.logger = logger
        self.relay = TradeRelay(services: RegionServicesReference(), logger: logger)
    }

    /// Starts the writer, the actors and the relay on `store`, this node's store of its region
    /// (the topology's `storage:`), which the caller opened and closes after ``stop()``.
    /// - Parameter passivatePlayersAfter: How long an idle player's actor stays in memory
    ///   unused (no call, nobody connected): the next call loads the player again. Default 10 minutes.
    public static func start(
        system: ClusterSystem,
        topology: Topology,
        store: any RegionStore,
        faults: FaultInjection = FaultInjection(),
        passivatePlayersAfter: Duration = .seconds(600),
        logger: Logger
    ) throws -> RegionServices {
        guard topology.region(named: system.region) != nil else {
            throw StorageError(.invalidArgument, "region \(system.region) is not in the topology")
        }
        let services = RegionServices(system: system, topology: topology, store: store, faults: faults, logger: logger)
        services.relay.attach(services)
        let inbox = try system.makeActor(path: TradeInbox.path) { TradeInbox(services: services, actorSystem: system) }
        services.inbox.withLock { $0 = inbox }
        system.registerActivator(prefix: "/player/", passivateAfter: passivatePlayersAfter) { [weak services] path -> PlayerHome? in
            guard let services else { return nil }
            return try services.activatePlayer(path: path)
        }
        services.relay.start()
        logger.info("region data ready", metadata: ["meridian.storage": "\(store.location)"])
        return services
    }

    /// A local player that is queued or in a match.
    public struct BusyPlayer: Sendable {
        public var home: PlayerHome
        public var session: PlayerSession
    }

    /// The local players that are queued or in a match now, with their sessions.
    public var busyPlayers: [BusyPlayer] { busy.withLock { Array($0.values) } }

    /// Tells this node where players live now (the identity layer's directory), so that what is
    /// addressed to a player who moved away — a match result, a trade — follows them.
    public func setHomeLookup(_ lookup: @escaping @Sendable (UUID) async -> String?) {
        homeLookup.withLock { $0 = HomeLookup(call: lookup) }
    }

    /// The region the directory names as `player`'s home, when it is not this one; nil when it is
    /// this one or nobody can say.
    func movedAway(_ player: UUID) async -> String? {
        guard let lookup = homeLookup.withLock({ $0 }), let region = await lookup.call(player), region != self.region else { return nil }
        return region
    }

    /// What `player` is doing here, when queued or in a match (why their data cannot move now); nil when idle.
    public func activity(of player: UUID) -> String? {
        busy.withLock { $0[player] }.map { "player \(player.uuidString.lowercased()) is \($0.session.summary); try again when they are idle" }
    }

    func sessionChanged(of player: UUID, home: PlayerHome, to session: PlayerSession) {
        busy.withLock { busy in
            if case .idle = session {
                busy[player] = nil
            } else {
                busy[player] = BusyPlayer(home: home, session: session)
            }
        }
    }

    /// This node's actor of `player` was refused a write because another node activated the
    /// player since (it was taken over after this node was declared down): it serves nothing more here.
    func activationLost(_ player: UUID) {
        busy.withLock { $0[player] = nil }
        logger.warning("player taken over by another node", metadata: ["meridian.player": "\(player)"])
    }

    /// Stops the trade relay; the store stays open for its owner to close.
    public func stop() {
        relay.stop()
    }

    private func activatePlayer(path: String) throws -> PlayerHome? {
        guard let id = UUID(uuidString: String(path.dropFirst("/player/".count))),
              PlayerPlacement.path(of: id) == path
        else { return nil }
        // Only the node serving the player in its home region has its actor; elsewhere it does not exist.
        guard system.playerOwner(of: id, region: region, topology: topology) == node else { return nil }
        return try system.makeActor(path: path) { PlayerHome(playerID: id, services: self, actorSystem: system) }
    }
}

/// The relay refers back to its services weakly (they own it).
final class RegionServicesReference: Sendable {
    private let reference = Mutex<WeakServices>(WeakServices())

    private struct WeakServices {
        weak var value: RegionServices?
    }

    var value: RegionServices? { reference.withLock { $0.value } }

    func set(_ services: RegionServices) {
        reference.withLock { $0.value = services }
    }
}

extension TradeRelay {
    func attach(_ services: RegionServices) {
        servicesReference.set(services)
    }
}
