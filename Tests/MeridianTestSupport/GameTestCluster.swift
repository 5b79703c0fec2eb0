import Distributed
import Foundation
import Logging
import MeridianAdmin
import MeridianClock
import MeridianCluster
import MeridianGame
import MeridianGateway
import MeridianIdentity
import MeridianMatchmaking
import MeridianMembership
import MeridianNode
import MeridianRegion
import MeridianStorage
import MeridianTestScope
import MeridianTopology
import MeridianTransport
import MeridianWire
import NIOCore
import Synchronization
import Testing

/// Two regions of two nodes each as in-process `ClusterSystem`s on loopback, every node running
/// its region's data services (embedded SQLite under a temporary directory) and the game layer
/// with fast test rules. Nodes can be killed (no drain, no leave) and started again.
///
/// Start one with ``with(name:rules:shards:nodes:gateways:gatewayConfiguration:passivatePlayersAfter:options:_:)``:
/// it holds one of the process's ``ClusterSlots`` and stops every node before the test ends.
public final class GameTestCluster: Sendable {
    /// How the nodes are set up beyond the game rules.
    public struct Options: Sendable {
        /// The clock of every node's game layer (ticks, timers, matchmaker passes,
        /// reconciliation, passivation). Default: the continuous clock; a test that steps time
        /// gives a ``ManualClock``.
        public var clock: ManualClock?
        /// SWIM's in-region suspicion timeout. Long enough by default that a busy 2-core machine
        /// does not take a live node for a dead one; a test that cuts a node off without it being
        /// declared down makes it longer.
        public var suspicionTimeout: Duration = .seconds(2)
        /// Route node traffic through the link emulator (``ClusterSystem/linkEmulation``), so a
        /// test can partition nodes.
        public var emulateLinks = false
        /// Whether the topology says `dev_login: true`. Default true (most tests log bots in by id).
        public var devLogin = true
        /// Adjusts every node's identity configuration (lifetimes, limits). Password hashes always
        /// use ``PasswordHasher/Parameters/testing`` here.
        public var identity: @Sendable (inout IdentityConfiguration) -> Void = { _ in }
        /// The wall clock tokens are issued and checked with.
        public var wallClock: @Sendable () -> Date = { Date() }
        /// A region's `storage:` URL instead of its own SQLite directory (e.g. a PostgreSQL
        /// database from ``TestPostgres/create()``, shared by the region's nodes).
        public var storage: [String: String] = [:]
        /// Give every node an admin HTTP on a free loopback port accepting these tokens
        /// (``Running/admin``). Default nil: none.
        public var adminTokens: AdminTokens?
        /// ``NodeConfiguration/declaredDownStopLimit`` of every node. Default 30 s.
        public var declaredDownStopLimit: Duration = .seconds(30)

        public init(
            clock: ManualClock? = nil, suspicionTimeout: Duration = .seconds(2), emulateLinks: Bool = false, devLogin: Bool = true,
            identity: @escaping @Sendable (inout IdentityConfiguration) -> Void = { _ in }, wallClock: @escaping @Sendable () -> Date = { Date() },
            storage: [String: String] = [:]
        ) {
            self.clock = clock
            self.suspicionTimeout = suspicionTimeout
            self.emulateLinks = emulateLinks
            self.devLogin = devLogin
            self.identity = identity
            self.wallClock = wallClock
            self.storage = storage
        }
    }

    public struct Running: Sendable {
        public var system: ClusterSystem
        public var region: RegionServices
        public var game: GameServices
        public var identity: IdentityNode
        /// The node's client gateway, when the cluster was started with gateways.
        public var gateway: GatewayServer?
        /// The node's admin HTTP, when the cluster was started with ``Options/adminTokens``.
        public var admin: AdminServer?
        /// The topology the node runs now.
        public var liveTopology: LiveTopology
        /// The node itself, and the task running it (it ends once the node stopped).
        public let node: MeridianNode
        let running: Task<Void, any Error>

        /// Waits until the node has stopped by itself (e.g. declared down by the cluster).
        /// - Throws: ``ClusterError/Code/timeout`` when it still runs after `timeout` (a safety net).
        public func waitUntilStopped(timeout: Duration = .seconds(30)) async throws {
            // Not a task group: a group waits for all its children, and one awaiting a node that
            // never stops would keep the timeout from ever being thrown.
            let clock = ContinuousClock()
            guard await waitForEnd(of: running, until: clock.now.advanced(by: timeout), clock: clock) else {
                throw ClusterError(.timeout, "node \(system.nodeID) still runs after \(timeout)")
            }
        }

        /// Stops the node and waits until every part has stopped.
        func stop(_ how: MeridianNode.Stop) async {
            await node.stop(how)
            _ = try? await running.value
        }
    }

    public static let secret = ClusterSecret(text: "game-test-secret-0123456789")!

    public let name: String
    public let directory: URL
    public let topology: Topology
    /// The topology's text (what a node hands on to one that joins or catches up).
    public let topologyYAML: String
    public let rules: GameRules
    public let logger: Logger
    private let running = Mutex<[String: Running]>([:])
    /// Stand-ins for the connections of party members (see ``formParty(leader:members:)``).
    private let partyConnections = Mutex<[SessionListener]>([])

    public let withGateways: Bool
    public let gatewayConfiguration: GatewayConfiguration
    /// How long an idle player's actor stays in memory unused.
    public let passivatePlayersAfter: Duration
    public let options: Options
    /// The one clock every node runs on (wrapped once, so all nodes share its instants).
    public let clock: AnyClock

    private init(
        name: String, rules: GameRules, shards: Int, gatewayPorts: [Int]?, gatewayConfiguration: GatewayConfiguration,
        passivatePlayersAfter: Duration, options: Options
    ) throws {
        self.options = options
        self.clock = options.clock.map { AnyClock($0) } ?? .continuous
        self.withGateways = gatewayPorts != nil
        self.gatewayConfiguration = gatewayConfiguration
        self.passivatePlayersAfter = passivatePlayersAfter
        let gateway = gatewayPorts ?? [2, 5, 8, 11]
        self.name = name
        self.rules = rules
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-game-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let yaml = """
        cluster: \(name)
        version: 1
        regions:
          eu-west: { shards: \(shards), storage: "\(options.storage["eu-west"] ?? "sqlite:\(directory.path)/eu-west")" }
          us-east: { shards: \(shards), storage: "\(options.storage["us-east"] ?? "sqlite:\(directory.path)/us-east")" }
        latency_ms:
          eu-west/us-east: 5
        catalog_primary: eu-west
        identity_authority: eu-west
        dev_login: \(options.devLogin)
        seeds: [eu-west-1]
        nodes:
          - { id: eu-west-1, region: eu-west, cluster: "127.0.0.1:1", gateway: "127.0.0.1:\(gateway[0])", metrics: "127.0.0.1:3" }
          - { id: eu-west-2, region: eu-west, cluster: "127.0.0.1:4", gateway: "127.0.0.1:\(gateway[1])", metrics: "127.0.0.1:6" }
          - { id: us-east-1, region: us-east, cluster: "127.0.0.1:7", gateway: "127.0.0.1:\(gateway[2])", metrics: "127.0.0.1:9" }
          - { id: us-east-2, region: us-east, cluster: "127.0.0.1:10", gateway: "127.0.0.1:\(gateway[3])", metrics: "127.0.0.1:12" }
        """
        topology = try TopologyLoader.parse(yaml: yaml)
        topologyYAML = yaml
        var logger = Logger(label: "game-test")
        logger.logLevel = ProcessInfo.processInfo.environment["MERIDIAN_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        self.logger = logger
    }

    /// Runs `body` on a cluster of `nodes` (default: all four) that see each other up, holding
    /// one of the process's ``ClusterSlots``; every node is stopped before this returns or throws.
    /// - Parameter gateways: Also start each node's client gateway on its topology address.
    public static func with<T>(
        name: String = #function, rules: GameRules = GameTestCluster.fastRules(), shards: Int = 4, nodes: [String]? = nil,
        gateways: Bool = false, gatewayConfiguration: GatewayConfiguration = GatewayConfiguration(),
        passivatePlayersAfter: Duration = .seconds(600), options: Options = Options(),
        _ body: (GameTestCluster) async throws -> T
    ) async throws -> T {
        try await ClusterSlots.shared.withSlot {
            try await withScoped({
                try await start(
                    name: name, rules: rules, shards: shards, nodes: nodes, gateways: gateways,
                    gatewayConfiguration: gatewayConfiguration, passivatePlayersAfter: passivatePlayersAfter, options: options
                )
            }, teardown: { await $0.shutdown() }, body)
        }
    }

    /// Starts `nodes` and waits until they see each other up. The gateway addresses are free
    /// ports picked up front; should another socket take one meanwhile (the kernel hands the
    /// same range to outgoing connections), the cluster is started again on new ports.
    private static func start(
        name: String, rules: GameRules, shards: Int, nodes: [String]?, gateways: Bool,
        gatewayConfiguration: GatewayConfiguration, passivatePlayersAfter: Duration, options: Options
    ) async throws -> GameTestCluster {
        var attempt = 0
        while true {
            attempt += 1
            let ports = gateways ? try await freeTCPPorts(4) : nil
            let cluster = try GameTestCluster(
                name: String(name.filter { $0.isLetter }.prefix(20)), rules: rules, shards: shards,
                gatewayPorts: ports, gatewayConfiguration: gatewayConfiguration, passivatePlayersAfter: passivatePlayersAfter,
                options: options
            )
            do {
                let ids = nodes ?? cluster.topology.nodes.map(\.id)
                for id in ids { try await cluster.start(id) }
                try await cluster.waitUntilUp(ids)
                return cluster
            } catch let error as IOError where error.errnoCode == EADDRINUSE && attempt < 5 {
                await cluster.shutdown()
            } catch {
                await cluster.shutdown()
                throw error
            }
        }
    }

    /// Matches that form at once and last about a second.
    public static func fastRules(minPlayers: Int = 2, maxPlayers: Int = 4, timeLimitSeconds: Int = 1) -> GameRules {
        var rules = GameRules()
        rules.minPlayers = minPlayers
        rules.maxPlayers = maxPlayers
        rules.matchmaking.minPlayers = minPlayers
        rules.matchmaking.maxPlayers = maxPlayers
        rules.matchmaking.formWithFewerAfter = .zero
        rules.lobbyWait = .milliseconds(200)
        rules.countdown = .milliseconds(200)
        rules.timeLimitSeconds = timeLimitSeconds
        return rules
    }

    public func node(_ id: String) -> Running? { running.withLock { $0[id] } }

    public var all: [Running] { running.withLock { Array($0.values) } }

    @discardableResult
    public func start(_ id: String) async throws -> Running {
        let region = topology.node(id: id)!.region
        var configuration = ClusterSystem.Configuration(cluster: name, node: id, region: region, secret: Self.secret)
        configuration.seeds = running.withLock { $0.values.map(\.system.address).sorted() }
        configuration.callTimeout = .seconds(5)
        configuration.membership.probeInterval = .milliseconds(200)
        configuration.membership.pingTimeout = .milliseconds(150)
        configuration.membership.suspicionTimeout = options.suspicionTimeout
        configuration.membership.joinRetryInterval = .milliseconds(200)
        configuration.membership.removalDelay = .seconds(3)
        configuration.clock = clock
        if options.emulateLinks {
            let latency = topology.latency
            configuration.oneWayLatency = { latency.oneWay(from: $0, to: $1) }
            configuration.emulateLatency = true
        }
        configuration.topologyYAML = topologyYAML
        configuration.topologyVersion = UInt64(topology.version)
        // The node's files (its catalog copy, the topology it adopted) stay under this test's
        // directory, also when its region's storage is PostgreSQL: the default there would be
        // `./data`, shared by every run in the checkout.
        var nodeConfiguration = NodeConfiguration(
            cluster: configuration, topology: topology,
            environment: ["MERIDIAN_DATA_DIR": directory.appendingPathComponent(region).path]
        )
        nodeConfiguration.passivatePlayersAfter = passivatePlayersAfter
        nodeConfiguration.fixedRules = rules
        nodeConfiguration.identity.password = .testing
        options.identity(&nodeConfiguration.identity)
        nodeConfiguration.wallClock = options.wallClock
        nodeConfiguration.declaredDownStopLimit = options.declaredDownStopLimit
        nodeConfiguration.gateway = withGateways ? gatewayConfiguration : nil
        if let tokens = options.adminTokens {
            nodeConfiguration.adminAddress = HostPort(host: "127.0.0.1", port: 0)
            nodeConfiguration.adminTokens = tokens
        }
        let meridianNode = MeridianNode(configuration: nodeConfiguration, logger: logger)
        let task = Task { try await meridianNode.run() }
        let parts: MeridianNode.Parts
        do {
            parts = try await meridianNode.started()
        } catch {
            // What had started is stopped by the node before its run ends.
            _ = try? await task.value
            throw error
        }
        let node = Running(
            system: parts.system, region: parts.region, game: parts.game, identity: parts.identity, gateway: parts.gateway,
            admin: parts.admin, liveTopology: parts.liveTopology, node: meridianNode, running: task
        )
        running.withLock { $0[id] = node }
        return node
    }

    /// Stops node `id` without draining its matches, as a crash would (the others detect it down).
    public func kill(_ id: String) async {
        guard let node = running.withLock({ $0.removeValue(forKey: id) }) else { return }
        await node.stop(.abandon)
    }

    /// Cuts the nodes of `side` off from every other node, both ways, through the link emulator
    /// (start the cluster with ``Options/emulateLinks``), or heals that cut.
    public func partition(_ side: Set<String>, _ partitioned: Bool) {
        let ids = topology.nodes.map(\.id)
        for node in all {
            let inside = side.contains(node.system.nodeID)
            for other in ids where side.contains(other) != inside {
                node.system.linkEmulation?.setPartitioned(node: other, partitioned)
            }
        }
    }

    public func waitUntilUp(_ ids: [String], timeout: Duration = .seconds(30)) async throws {
        let expected = Set(ids)
        for node in all {
            try await node.system.membership.waitUntil(timeout: timeout) { members in
                expected.isSubset(of: Set(members.filter { $0.status == .up }.map(\.id.node)))
            }
        }
    }

    /// Creates an account (a dev login method) homed in `region` at the identity authority, and
    /// its player data there; returns the player id.
    public func createAccount(_ player: UUID = UUID(), name: String = "test", home region: String) async throws -> UUID {
        var request = Meridian_Identity_V1_AdminCreateAccount()
        request.dev.player = player.uuidString.lowercased()
        request.dev.displayName = name
        request.homeRegion = region
        let grant = try await all.first!.identity.createAccount(request)
        _ = try await home(of: player, region: grant.account.homeRegion).create(displayName: name)
        return player
    }

    /// Makes `members` (player, home region) join `leader`'s party the way their clients would:
    /// each is online (a connection watches its session) and accepts the leader's invitation.
    public func formParty(leader: UUID, members: [(UUID, String)]) async throws {
        let system = all.first!.system
        let connection = SessionListener(actorSystem: system) { _, _ in }
        partyConnections.withLock { $0.append(connection) }
        for (member, region) in members {
            let home = try home(of: member, region: region)
            _ = try await home.watchSession(listener: connection.id)
            try await home.invite(from: leader, leaderName: "leader")
            try await home.acceptInvitation(from: leader)
        }
    }

    /// Creates a player homed in `region` through any running node; returns its id.
    public func createPlayer(_ name: String, home region: String, via node: String? = nil) async throws -> UUID {
        let id = UUID()
        _ = try await home(of: id, region: region, via: node).create(displayName: name)
        return id
    }

    public func home(of player: UUID, region: String, via node: String? = nil) throws -> PlayerHome {
        let via = node.flatMap { self.node($0) } ?? all.first!
        return try PlayerDirectory(system: via.system, topology: topology).home(of: player, region: region)
    }

    /// The node that hosts a player's actor (and data) in its home region.
    public func homeNode(of player: UUID, region: String) -> String {
        PlayerPlacement.owner(of: player, region: region, topology: topology)!
    }

    public func front(via node: String) throws -> GameFront {
        try GameFront.resolve(id: ClusterActorID(node: node, incarnation: 0, path: GameFront.path), using: self.node(node)!.system)
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` passes.
    public func eventually(_ what: String, timeout: Duration = .seconds(20), _ condition: @Sendable () async throws -> Bool) async throws {
        _ = try await eventuallyValue(what, timeout: timeout) { try await condition() ? true : nil }
    }

    /// Waits until `player`'s home (in `home`) has them in a match, and returns the match.
    /// Creates one player per home in `homes` (named a, b, …), queues each alone in `region`
    /// through `node`'s game front, and waits until the first is in a match.
    public func matchSoloPlayers(homes: [String], in region: String = "eu-west", via node: String) async throws -> (players: [UUID], match: MatchAssignment) {
        var players: [UUID] = []
        for (index, home) in homes.enumerated() {
            players.append(try await createPlayer(String(UnicodeScalar(UInt8(97 + index % 26))), home: home))
        }
        let front = try front(via: node)
        for (player, home) in zip(players, homes) { _ = try await front.queue(solo(player, home: home), region: region) }
        return (players, try await match(of: players[0], home: homes[0], "the first player is in a match"))
    }

    public func match(of player: UUID, home: String, _ what: String) async throws -> MatchAssignment {
        try await eventuallyValue(what) {
            guard case .inMatch(let match) = try await self.home(of: player, region: home).currentSession() else { return nil }
            return match
        }
    }

    /// Polls `probe` every 50 ms until it returns a value or `timeout` passes.
    public func eventuallyValue<T: Sendable>(_ what: String, timeout: Duration = .seconds(20), _ probe: @Sendable () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = try? await probe() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting until \(what)")
        throw CancellationError()
    }

    public func shutdown() async {
        for id in running.withLock({ Array($0.keys) }) {
            guard let node = running.withLock({ $0.removeValue(forKey: id) }) else { continue }
            await node.stop(.leave(drainTimeout: .zero))
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

public func solo(_ player: UUID, home: String, ticket: UUID = UUID(), rtt: [String: Int] = ["eu-west": 10, "us-east": 60]) -> QueueTicket {
    QueueTicket(id: ticket, members: [.init(player: player, homeRegion: home)], rttMilliseconds: rtt)
}
