import Logging
import MeridianCatalog
import MeridianClock
import MeridianCluster
import MeridianGame
import MeridianIdentity
import MeridianRegion
import MeridianTopology
import Synchronization

/// What every client session of one gateway shares: the node's cluster system and game layer,
/// the directory of players' actors, the topology (for `Locate`), the catalog, the node's identity
/// layer (token checks without a round trip, logins at the authority, the home-region directory).
final class GatewayContext: Sendable {
    let system: ClusterSystem
    let game: GameServices
    let directory: PlayerDirectory
    /// The topology in force (live), for `Locate` and redirects.
    var topology: Topology { game.topology }
    let catalog: LocalCatalog?
    let identity: IdentityNode
    let configuration: GatewayConfiguration
    let router: MatchFeedRouter
    let sessionChanges: SessionChangeRouter
    let logger: Logger
    let counters = Mutex(GatewayCounters())
    let metrics = GatewayMetrics()
    /// Connection slots and login rates per source address.
    let admission: Mutex<Admission<AnyClock.Instant>>

    init(
        system: ClusterSystem, game: GameServices, identity: IdentityNode, catalog: LocalCatalog?,
        configuration: GatewayConfiguration, logger: Logger
    ) {
        self.system = system
        self.game = game
        self.directory = game.directory
        self.catalog = catalog
        self.identity = identity
        self.configuration = configuration
        self.router = MatchFeedRouter(system: system, logger: logger)
        self.sessionChanges = SessionChangeRouter(system: system)
        self.logger = logger
        self.admission = Mutex(Admission(limits: .init(
            maximumConnections: configuration.maximumConnections,
            maximumConnectionsPerSource: configuration.maximumConnectionsPerSource,
            loginsPerSourcePerMinute: configuration.loginsPerSourcePerMinute,
            registrationsPerSourcePerMinute: configuration.registrationsPerSourcePerMinute
        )))
    }

    var region: String { system.region }
}

/// Running totals of one gateway, for status output and tests.
public struct GatewayCounters: Sendable, Hashable {
    public var connections = 0
    public var accepted = 0
    public var logins = 0
    /// Connections closed for bad input, by error code.
    public var refusedConnections: [String: Int] = [:]
}
