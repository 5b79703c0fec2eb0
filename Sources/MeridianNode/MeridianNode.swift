import Distributed
import Logging
import MeridianAdmin
import MeridianCatalog
import MeridianCluster
import MeridianGame
import MeridianGateway
import MeridianIdentity
import MeridianMembership
import MeridianObservability
import MeridianRegion
import MeridianStorage
import MeridianTopology
import ServiceLifecycle
import Synchronization
import UnixSignals

/// One Meridian node, assembled from its parts as `Service`s of one `ServiceGroup`.
///
/// The parts start in dependency order — the admin HTTP (metrics and probes), the region's store, the actor system, the
/// region's data services, the catalog replica, the identity layer, the game services, the
/// client gateway — and stop in the reverse order: the gateway closes first, the game hands
/// its shards over at match boundaries, the actor system leaves the cluster, the store closes
/// last. A part that fails to start stops what already started, and ``run(gracefulShutdownSignals:)``
/// throws its error.
///
/// ```swift
/// let node = MeridianNode(configuration: configuration, logger: logger)
/// try await node.run(gracefulShutdownSignals: [.sigterm, .sigint])
/// if node.wasDeclaredDown { /* start a new MeridianNode with a new incarnation, or exit(MeridianNode.declaredDownExitCode) */ }
/// ```
public final class MeridianNode: Sendable {
    /// EX_TEMPFAIL: the node stopped because the cluster declared it down; start it again.
    public static let declaredDownExitCode: Int32 = 75

    /// How the node stops.
    public enum Stop: Sendable, Equatable {
        /// Leave the cluster: no new matches, shards handed over once their running matches end
        /// (waiting at most `drainTimeout`; nil: the rules' longest match plus 15 s).
        case leave(drainTimeout: Duration? = nil)
        /// Stop every part at once and hand nothing over, as a crash would: the others find
        /// this node gone and fail its shards and players over (tests' `kill`).
        case abandon
    }

    /// The parts of a running node.
    public struct Parts: Sendable {
        public var system: ClusterSystem
        public var region: RegionServices
        /// The catalog replica; nil with ``NodeConfiguration/fixedRules``.
        public var catalog: CatalogNode?
        public var identity: IdentityNode
        public var game: GameServices
        /// The client gateway; nil when the node has none.
        public var gateway: GatewayServer?
        /// The admin HTTP; nil when the node has no `metrics:` address.
        public var admin: AdminServer?
        /// The node's side of `meridian topology apply`.
        public var topology: TopologyAgent
        /// The topology the node runs now.
        public var liveTopology: LiveTopology
    }

    public let configuration: NodeConfiguration
    /// Carries `meridian.node` and `meridian.region`, for every part of the node.
    public let logger: Logger
    private let group: ServiceGroup
    private let control: Control
    private let parts: PartsStarted

    public init(configuration: NodeConfiguration, logger: Logger, gracefulShutdownSignals: [UnixSignal] = []) {
        var configuration = configuration
        // The topology can change while the node runs (`meridian topology apply`): its parts
        // read the live one, and so does the simulated latency of a local cluster.
        let live = LiveTopology(configuration.topology, yaml: configuration.cluster.topologyYAML ?? "")
        configuration.cluster.topology = live
        if configuration.cluster.emulateLatency {
            configuration.cluster.oneWayLatency = { live.current.latency.oneWay(from: $0, to: $1) }
        }
        var logger = logger
        logger[metadataKey: "meridian.node"] = "\(configuration.cluster.node)"
        logger[metadataKey: "meridian.region"] = "\(configuration.cluster.region)"
        self.configuration = configuration
        self.logger = logger
        let control = Control(stuckStop: StuckStopWatch(limit: configuration.declaredDownStopLimit, clock: configuration.cluster.clock))
        let parts = PartsStarted()
        self.control = control
        self.parts = parts
        let services = Self.services(configuration: configuration, parts: parts, control: control, logger: logger)
        group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0, failureTerminationBehavior: .gracefullyShutdownGroup) },
            gracefulShutdownSignals: gracefulShutdownSignals,
            logger: logger
        ))
        control.setGroup(group)
    }

    /// Runs the node until it is stopped (``stop(_:)``, a graceful-shutdown signal given at
    /// init, or the cluster declaring it down), then stops its parts in reverse order.
    /// - Throws: The error of the part that failed (a port in use, a store that cannot open…),
    ///   after what had started is stopped.
    ///
    /// A node declared down whose parts take longer than
    /// ``NodeConfiguration/declaredDownStopLimit`` to stop returns without them (logging the parts
    /// still stopping) with ``stopWasStuck`` set: it cannot start again in this process.
    public func run() async throws {
        defer { control.setGroup(nil) }  // the group's services refer back to the control
        let (outcomes, outcome) = AsyncStream.makeStream(of: Result<Void, any Error>?.self)
        control.stuckStop.onExpiry { outcome.yield(nil) }
        let group = self.group
        let running = Task {
            do {
                try await group.run()
                outcome.yield(.success(()))
            } catch {
                outcome.yield(.failure(error))
            }
        }
        for await finished in outcomes {
            if let finished { return try finished.get() }
            guard control.markStopStuck() else { continue }
            logger.error("this node's parts did not stop within \(configuration.declaredDownStopLimit) of it being declared down; giving up on them (the process must restart)", metadata: [
                "meridian.parts_stopping": "\(control.progress.parts(in: .stopping).joined(separator: ", "))",
                "meridian.parts_not_yet_stopping": "\(control.progress.parts(in: .running).joined(separator: ", "))",
                "meridian.parts_starting": "\(control.progress.parts(in: .starting).joined(separator: ", "))",
            ])
            running.cancel()
            return
        }
    }

    /// The node's parts, once all have started.
    /// - Throws: The first part's start failure.
    public func started() async throws -> Parts {
        try await parts.all()
    }

    /// Stops the node (``run()`` returns once every part stopped).
    public func stop(_ how: Stop = .leave()) async {
        await control.stop(how)
    }

    /// Whether ``run()`` returned before the parts of a node declared down had stopped (see
    /// ``NodeConfiguration/declaredDownStopLimit``): only a new process can start the node again.
    public var stopWasStuck: Bool { control.stopWasStuck }

    /// Whether the node stopped because the cluster declared it down (a pause or a cut-off
    /// longer than the failure detector allows): it should start again as a new incarnation
    /// (`meridian bootstrap` does so in its process, or exits with ``declaredDownExitCode`` for
    /// its supervisor with `--when-declared-down exit`).
    public var wasDeclaredDown: Bool { control.wasDeclaredDown }

    // MARK: - Assembly

    private static func services(configuration: NodeConfiguration, parts: PartsStarted, control: Control, logger: Logger) -> [any Service] {
        let topology = configuration.topology
        // Admin actions are recorded whether or not the node serves admin HTTP.
        let audit = AuditLog(path: configuration.auditLogPath, node: configuration.cluster.node, now: configuration.wallClock, logger: logger)
        let admin = NodePartService("admin", started: parts.admin, progress: control.progress) { () -> AdminServer? in
            // First, before any part makes its metrics: a metric keeps the factory it was made with.
            guard let address = configuration.adminAddress else { return nil }
            let registry = MeridianMetrics.bootstrap(logger: logger)
            return try await AdminServer.start(
                .init(host: address.host, port: address.port, tokens: configuration.adminTokens), registry: registry, audit: audit, logger: logger
            )
        } stop: { admin in
            await admin?.shutdown()
            await audit.close()
        }

        let store = NodePartService("store", started: parts.store, progress: control.progress) { () -> any RegionStore in
            _ = try await parts.admin.value
            let region = configuration.cluster.region
            guard let storage = topology.region(named: region)?.storage else {
                throw StorageError(.invalidArgument, "region \(region) is not in the topology")
            }
            return try await makeRegionStore(storage: storage, node: configuration.cluster.node, logger: logger)
        } stop: { await $0.close() }

        let cluster = NodePartService("cluster", started: parts.system, progress: control.progress) {
            _ = try await parts.store.value
            return try await ClusterSystem.start(configuration.cluster, logger: logger)
        } stop: { await $0.shutdown() }

        let region = NodePartService("region", started: parts.region, progress: control.progress) {
            let (store, system) = try await (parts.store.value, parts.system.value)
            return try RegionServices.start(
                system: system, topology: topology, store: store, passivatePlayersAfter: configuration.passivatePlayersAfter, logger: logger
            )
        } stop: { $0.stop() }

        let catalog = NodePartService("catalog", started: parts.catalog, progress: control.progress) { () -> CatalogNode? in
            let system = try await parts.system.value
            _ = try await parts.region.value
            guard configuration.fixedRules == nil else { return nil }
            // Serves its persisted version at once, then keeps up with the leader.
            return try await CatalogNode.start(system: system, configuration: configuration.catalog, logger: logger)
        } stop: { await $0?.stop() }

        let identity = NodePartService("identity", started: parts.identity, progress: control.progress) {
            let (system, region) = try await (parts.system.value, parts.region.value)
            _ = try await parts.catalog.value
            let identity = try await IdentityNode.start(
                system: system, topology: topology, store: region.store, configuration: configuration.identity, now: configuration.wallClock,
                playerBusy: { [weak region] player in region?.activity(of: player) }, logger: logger
            )
            region.setHomeLookup { [weak identity] player in try? await identity?.homeRegion(of: player) }
            return identity
        } stop: { await $0.stop() }

        let game = NodePartService("game", started: parts.game, progress: control.progress) {
            let (system, region, catalog) = try await (parts.system.value, parts.region.value, parts.catalog.value)
            _ = try await parts.identity.value
            return try GameServices.start(
                system: system, topology: topology, regionServices: region, catalog: catalog?.local, fixedRules: configuration.fixedRules, logger: logger
            )
        } stop: { game in
            switch control.stopMode {
            case .leave(let drainTimeout): await game.shutdown(drainTimeout: drainTimeout)
            case .abandon: break  // a crash hands nothing over
            }
        }

        let gateway = NodePartService("gateway", started: parts.gateway, progress: control.progress) { () -> GatewayServer? in
            let (system, catalog, identity, game) = try await (parts.system.value, parts.catalog.value, parts.identity.value, parts.game.value)
            guard let gatewayConfiguration = configuration.gateway, let address = topology.node(id: system.nodeID)?.gateway else { return nil }
            return try await GatewayServer.start(
                host: address.host, port: address.port, system: system, game: game, identity: identity, catalog: catalog?.local, configuration: gatewayConfiguration, logger: logger
            )
        } stop: { gateway in
            switch control.stopMode {
            case .leave(let drainTimeout):
                // Clients are told where to resume; a quick leave (no drain time) does not wait for them.
                await gateway?.drain(timeout: drainTimeout == .zero ? .zero : configuration.gatewayDrainTimeout)
            case .abandon:
                await gateway?.shutdown()
            }
        }

        let topologyAgent = NodePartService("topology", started: parts.topology, progress: control.progress) { () -> TopologyPart in
            let system = try await parts.system.value
            _ = try await parts.gateway.value
            guard let live = system.configuration.topology else { throw ClusterError(.shutdown, "the node runs no live topology") }
            let origin = ContinuousClock.now
            let agent = try system.makeActor(path: TopologyAgent.path) {
                TopologyAgent(
                    live: live, file: configuration.appliedTopology, tokens: configuration.adminTokens, audit: audit,
                    now: { ContinuousClock.now - origin }, leave: { await control.stop(.leave()) }, logger: logger, actorSystem: system
                )
            }
            // A node that was down while a version was applied takes it from the first peer
            // that runs it, now and whenever a member comes up.
            let changes = system.membership.changes()
            for member in system.membership.members where member.status == .up {
                _ = await agent.whenLocal { await $0.catchUp(from: member.id.node) }
            }
            let follower = Task {
                for await change in changes where change.current == .up {
                    _ = await agent.whenLocal { await $0.catchUp(from: change.member.id.node) }
                }
            }
            return TopologyPart(agent: agent, live: live, follower: follower)
        } stop: { $0.follower.cancel() }

        let gate = NodePartService("admin gate", started: parts.gate, progress: control.progress) {
            let (system, identity, game) = try await (parts.system.value, parts.identity.value, parts.game.value)
            _ = try await parts.topology.value
            return try system.makeActor(path: AdminGate.path) {
                AdminGate(tokens: configuration.adminTokens, audit: audit, game: game, identity: identity, logger: logger, actorSystem: system)
            }
        } stop: { _ in }

        // Last to start, first to stop: the admin API reports from every part, and `/readyz`
        // turns 503 before the gateway starts draining.
        let ready = NodePartService("readiness", started: parts.ready, progress: control.progress) { () -> AdminServer? in
            let (admin, system, identity, game) = try await (parts.admin.value, parts.system.value, parts.identity.value, parts.game.value)
            _ = try await parts.gate.value
            admin?.attach(NodeAdminQueries(system: system, game: game, identity: identity, timeout: .seconds(2)))
            return admin
        } stop: { $0?.setDraining() }

        let watch = DeclaredDownWatch(system: parts.system, control: control, logger: logger)
        return [admin, store, cluster, watch, region, catalog, identity, game, gateway, topologyAgent, gate, ready]
    }
}

extension MeridianNode {
    /// Each part once started (or why it could not).
    final class PartsStarted: Sendable {
        let admin = Started<AdminServer?>()
        let store = Started<any RegionStore>()
        let system = Started<ClusterSystem>()
        let region = Started<RegionServices>()
        let catalog = Started<CatalogNode?>()
        let identity = Started<IdentityNode>()
        let game = Started<GameServices>()
        let gateway = Started<GatewayServer?>()
        let topology = Started<TopologyPart>()
        let gate = Started<AdminGate>()
        let ready = Started<AdminServer?>()

        func all() async throws -> Parts {
            Parts(
                system: try await system.value, region: try await region.value, catalog: try await catalog.value,
                identity: try await identity.value, game: try await game.value, gateway: try await gateway.value,
                admin: try await ready.value, topology: try await topology.value.agent, liveTopology: try await topology.value.live
            )
        }
    }

    struct TopologyPart: Sendable {
        let agent: TopologyAgent
        let live: LiveTopology
        let follower: Task<Void, Never>
    }

    /// How the node is to stop, and the group to tell.
    final class Control: Sendable {
        private struct State {
            var group: ServiceGroup?
            var stop = Stop.leave()
            var declaredDown = false
            var stopStuck = false
        }

        private let state = Mutex(State())
        let progress = PartProgress()
        /// Started when the cluster declares the node down, cancelled when the group is gone.
        let stuckStop: StuckStopWatch

        init(stuckStop: StuckStopWatch) {
            self.stuckStop = stuckStop
        }

        var stopMode: Stop { state.withLock { $0.stop } }
        var wasDeclaredDown: Bool { state.withLock { $0.declaredDown } }
        var stopWasStuck: Bool { state.withLock { $0.stopStuck } }

        func setGroup(_ group: ServiceGroup?) {
            state.withLock { $0.group = group }
            if group == nil { stuckStop.cancel() }
        }

        /// Records that the stop was given up on; false if the node was not declared down.
        func markStopStuck() -> Bool {
            state.withLock { state in
                guard state.declaredDown else { return false }
                state.stopStuck = true
                return true
            }
        }

        func stop(_ how: Stop, declaredDown: Bool = false) async {
            let group = state.withLock { state in
                state.stop = how
                state.declaredDown = state.declaredDown || declaredDown
                return state.group
            }
            if declaredDown { stuckStop.start() }
            await group?.triggerGracefulShutdown()
        }
    }

    /// Stops the node at once when the cluster declares it down: the others already took over
    /// its shards and players (and told its matches' players `server_lost`), so there is
    /// nothing to hand over.
    struct DeclaredDownWatch: Service, CustomStringConvertible {
        let system: Started<ClusterSystem>
        let control: Control
        let logger: Logger
        var description: String { "declared-down watch" }

        func run() async throws {
            if let system = try? await cancelWhenGracefulShutdown({ try await self.system.value }),
               await cancelWhenGracefulShutdown({ await system.membership.declaredDown() }) {
                logger.error("this node was declared down by the cluster (a pause or a cut-off longer than the failure detector allows); stopping this incarnation, to start again as a new one", metadata: [
                    "meridian.incarnation": "\(system.incarnation)",
                ])
                await control.stop(.leave(drainTimeout: .zero), declaredDown: true)
            }
            // Return on this service's turn in the shutdown, not before (the group takes an
            // early return for a failure).
            try? await gracefulShutdown()
        }
    }
}
