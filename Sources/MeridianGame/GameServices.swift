import Distributed
import Foundation
import Logging
import MeridianCatalog
import MeridianClock
import MeridianCluster
import MeridianMembership
import MeridianRegion
import MeridianTopology
import Synchronization

/// A node's part of the game layer: the shards of its region that the placement gives it,
/// the matches on them, the region's matchmaker when the placement picks this node, and the
/// watcher that keeps sessions honest when membership changes:
///
/// - a node went down → every local player seated in a match on it gets a `serverLost`
///   result (exactly once) and may queue again; its shards start on the remaining nodes;
/// - the placement moved a local shard away → the shard drains (no new matches, running ones
///   finish) and is released;
/// - a region's matchmaker moved → every local ticket owner queues its ticket at the new one.
public final class GameServices: Sendable {
    public let placement: RegionPlacement
    public let statistics = TickStatistics()
    public let directory: PlayerDirectory
    let system: ClusterSystem
    /// The topology in force (live).
    public var topology: Topology { system.topology(startedWith: startTopology) }
    private let startTopology: Topology
    let regionServices: RegionServices
    let catalog: LocalCatalog?
    let fixedRules: GameRules?
    let logger: Logger
    private let reference = GameServicesReference()
    private let shardHosts = Mutex<[Int: ShardHost]>([:])
    private let matchmakers = Mutex<[String: Matchmaker]>([:])
    private let watcher = Mutex<Task<Void, Never>?>(nil)
    private let stopping = Atomic<Bool>(false)
    private let front = Mutex<GameFront?>(nil)
    private let onlineClientsProvider = Mutex<StoredClosure<Int>?>(nil)
    /// Matches found gone from their live node while local players were still in them, and
    /// since when (``endVanishedMatches(_:)``).
    private let vanishedSince = Mutex<[UUID: AnyClock.Instant]>([:])
    /// When this node first saw players of its in a match (``endVanishedMatches(_:)``).
    private let firstSeenInMatch = Mutex<[UUID: AnyClock.Instant]>([:])
    /// Beyond the rules' time limit, what a match may take at most: the lobby's wait for its
    /// players, the countdown and the post-game.
    package static let longestMatchMargin: Duration = .seconds(120)
    /// Fires when a shard this node held is released (``shutdown(drainTimeout:)`` waits on it).
    private let shardsReleased = Broadcast<Void>()
    /// A reconciling pass that left work undone (a call failed) runs again after this pause,
    /// until one completes.
    static let reconcileRetryPause: Duration = .seconds(2)
    /// How often the matches of this node's busy players are looked at for any that vanished
    /// (``endVanishedMatches(_:)``): only a match seen for longer than one can run is asked about.
    package static let vanishedSweepInterval: Duration = .seconds(30)

    private init(system: ClusterSystem, topology: Topology, regionServices: RegionServices, catalog: LocalCatalog?, fixedRules: GameRules?, logger: Logger) {
        self.system = system
        self.fixedRules = fixedRules
        self.startTopology = topology
        self.regionServices = regionServices
        self.catalog = catalog
        self.logger = logger
        self.placement = RegionPlacement(system: system, topology: topology)
        self.directory = PlayerDirectory(system: system, topology: topology)
    }

    /// Starts the game layer on a node that already runs its region's data services.
    /// - Parameters:
    ///   - catalog: The node's catalog; the rules are read from its `config:` at every match.
    ///   - fixedRules: Rules to use instead of the catalog's (tests, benchmarks).
    public static func start(
        system: ClusterSystem, topology: Topology, regionServices: RegionServices, catalog: LocalCatalog?,
        fixedRules: GameRules? = nil, logger: Logger
    ) throws -> GameServices {
        let game = GameServices(system: system, topology: topology, regionServices: regionServices, catalog: catalog, fixedRules: fixedRules, logger: logger)
        game.reference.set(game)
        let region = system.region
        let front = try system.makeActor(path: GameFront.path) { GameFront(game: game.reference, actorSystem: system) }
        game.front.withLock { $0 = front }
        system.registerActivator(prefix: "/shard/\(region)/") { [weak game] path in
            try game?.activateShard(path: path)
        }
        system.registerActivator(prefix: "/matchmaker/") { [weak game] path in
            try game?.activateMatchmaker(path: path)
        }
        let changes = system.membership.changes()
        let clock = system.clock
        game.watcher.withLock {
            $0 = Task { [weak game] in
                // A pass on every membership change, and again after a pause while one leaves
                // work undone; the vanished-match sweep on its own slow timer.
                let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await _ in changes { wake.yield() }
                        wake.finish()
                    }
                    group.addTask {
                        var retry: Task<Void, Never>?
                        for await _ in wakeups {
                            retry?.cancel()
                            guard let complete = await game?.reconcile(), !complete else { continue }
                            retry = Task {
                                try? await clock.sleep(for: reconcileRetryPause)
                                if !Task.isCancelled { wake.yield() }
                            }
                        }
                        retry?.cancel()
                    }
                    group.addTask {
                        while !Task.isCancelled {
                            try? await clock.sleep(for: vanishedSweepInterval)
                            guard !Task.isCancelled, let game else { return }
                            await game.endVanishedMatches(game.busySessions)
                        }
                    }
                }
            }
        }
        return game
    }

    /// The rules of the catalog this node serves now.
    public var rules: GameRules {
        fixedRules ?? catalog.map(GameRules.init(catalog:)) ?? GameRules()
    }

    // MARK: Resolving

    public func matchmaker(of region: String) throws -> Matchmaker {
        guard let node = placement.matchmakerNode(region: region) else {
            throw ClusterError(.nodeUnreachable, "region \(region) has no live node to run its matchmaker")
        }
        return try matchmaker(of: region, on: node)
    }

    func matchmaker(of region: String, on node: String) throws -> Matchmaker {
        try Matchmaker.resolve(id: ClusterActorID(node: node, incarnation: 0, path: Matchmaker.path(region: region)), using: system)
    }

    /// How long a call to a region's matchmaker keeps following the placement while the node it
    /// reached says it is not the matchmaker: membership views converge within a few gossip
    /// rounds after a change.
    static let matchmakerRedirectLimit: Duration = .seconds(10)

    /// Runs `call` on `region`'s matchmaker. Nodes can disagree for a moment about which node
    /// that is (one has heard of a joining or suspected member, another not yet): a node that is
    /// not the matchmaker in its own view refuses (`actorNotFound` at activation,
    /// `notMatchmaker` from a stopped one), and the call is sent again wherever the placement
    /// points then, until the views agree. `call` must be idempotent (every matchmaker call is:
    /// tickets are keyed by id).
    /// - Parameter node: Where to try first (default: where this node's placement points).
    public func withMatchmaker<T: Sendable>(
        of region: String, startingAt node: String? = nil, _ call: @Sendable (Matchmaker) async throws -> T
    ) async throws -> T {
        var first = node
        return try await RetryPolicy(limit: Self.matchmakerRedirectLimit, initialPause: .milliseconds(50), maximumPause: .milliseconds(500))
            .run(retryIf: Self.reachedAnotherMatchmaker) {
                defer { first = nil }
                return try await call(first.map { try matchmaker(of: region, on: $0) } ?? matchmaker(of: region))
            }
    }

    /// Whether `error` says the node reached does not run the region's matchmaker (now).
    static func reachedAnotherMatchmaker(_ error: any Error) -> Bool {
        if let error = error as? ClusterError { return error.code == .actorNotFound }
        if let error = error as? GameError { return error.code == .notMatchmaker }
        return false
    }

    public func match(_ assignment: MatchAssignment) throws -> MatchActor {
        try MatchActor.resolve(
            id: ClusterActorID(node: assignment.node, incarnation: assignment.incarnation, path: MatchActor.path(of: assignment.matchID)),
            using: system
        )
    }

    func shardHost(region: String, shard: Int) throws -> ShardHost {
        guard let node = placement.shardOwner(region: region, shard: shard) else {
            throw ClusterError(.nodeUnreachable, "region \(region) has no live node for shard \(shard)")
        }
        return try ShardHost.resolve(id: ClusterActorID(node: node, incarnation: 0, path: ShardHost.path(region: region, shard: shard)), using: system)
    }

    /// Starts `spec` on one of its region's shards: the shard picked by the match id first,
    /// then the next ones while a shard is being handed over.
    func startMatch(_ spec: MatchSpec) async throws -> MatchAssignment {
        let count = placement.shardCount(of: spec.region)
        guard count > 0 else { throw GameError(.noShardAvailable, "region \(spec.region) has no shards") }
        let first = Int(UInt(bitPattern: spec.matchID.hashValue) % UInt(count))
        var lastError: any Error = GameError(.noShardAvailable, "no shard of \(spec.region) took the match")
        for offset in 0..<count {
            var attempt = spec
            attempt.shard = (first + offset) % count
            do {
                return try await shardHost(region: spec.region, shard: attempt.shard).startMatch(attempt)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    // MARK: Activation

    private func activateShard(path: String) throws -> ShardHost? {
        guard let shard = Int(path.dropFirst("/shard/\(system.region)/".count)),
              (0..<placement.shardCount(of: system.region)).contains(shard),
              !stopping.load(ordering: .relaxed),
              placement.shardOwner(region: system.region, shard: shard) == system.nodeID
        else { return nil }
        return try shardHosts.withLock { hosts in
            if let host = hosts[shard] { return host }
            let host = try system.makeActor(path: path) {
                ShardHost(region: system.region, shard: shard, game: reference, actorSystem: system)
            }
            hosts[shard] = host
            return host
        }
    }

    private func activateMatchmaker(path: String) throws -> Matchmaker? {
        let region = String(path.dropFirst("/matchmaker/".count))
        guard topology.region(named: region) != nil, region == system.region, !stopping.load(ordering: .relaxed),
              placement.matchmakerNode(region: region) == system.nodeID
        else { return nil }
        let neighbours = topology.regions.map(\.name).filter { $0 != region }
            .sorted { topology.latency.oneWay(from: region, to: $0) < topology.latency.oneWay(from: region, to: $1) }
        let rules = rules
        return try matchmakers.withLock { matchmakers in
            if let existing = matchmakers[region] { return existing }
            let matchmaker = try system.makeActor(path: path) {
                Matchmaker(region: region, neighbours: neighbours, rules: rules, game: reference, logger: logger, actorSystem: system)
            }
            matchmakers[region] = matchmaker
            return matchmaker
        }
    }

    /// Creates the actor of `spec`'s match on this node; the shard opens it.
    func makeMatch(spec: MatchSpec, shard: ShardHost) throws -> MatchActor {
        let environment = MatchEnvironment(system: system, directory: directory, statistics: statistics, logger: logger) { [weak shard] id in
            guard let shard else { return }
            Task { await shard.whenLocal { $0.matchReleased(id) } }
        }
        let rules = rules
        let match = try system.makeActor(path: MatchActor.path(of: spec.matchID)) {
            MatchActor(spec: spec, rules: rules, environment: environment, actorSystem: system)
        }
        return match
    }

    /// Whether another node of `region` may still run matches of `shard` (a handover in
    /// progress). Every member not declared down is asked — a suspect one too: it is out of the
    /// placement, but until it is down it may well be alive and running the shard's matches.
    /// One that cannot answer counts as holding them.
    func shardHeldElsewhere(region: String, shard: Int) async throws -> Bool {
        for node in placement.possiblyAliveNodes(in: region) where node != system.nodeID {
            let host = try ShardHost.resolve(id: ClusterActorID(node: node, incarnation: 0, path: ShardHost.path(region: region, shard: shard)), using: system)
            do {
                if try await ClusterSystem.withCallTimeout(.seconds(2), operation: { try await host.holdsMatches() }) { return true }
            } catch let error as ClusterError where error.code == .actorNotFound {
                continue
            } catch {
                return true  // cannot tell: do not risk two owners running the shard
            }
        }
        return false
    }

    func shardReleased(region: String, shard: Int, host: ShardHost) {
        shardHosts.withLock { hosts in
            if hosts[shard] === host { hosts[shard] = nil }
        }
        shardsReleased.yield(())
        logger.info("shard handed over", metadata: ["meridian.shard": "\(region)/\(shard)"])
    }

    // MARK: Reconciling with membership

    /// Brings this node in line with the membership: drains the shards it no longer owns, ends
    /// the matches lost with their nodes for the players who live here, and queues their
    /// tickets again at a matchmaker that moved. Returns false when a step failed (it is retried).
    func reconcile() async -> Bool {
        await drainMovedShards()
        let sessions = busySessions
        let ended = await endMatchesOnLostNodes(sessions, members: system.membership.members)
        let requeued = await requeueMissingTickets(sessions)
        return ended && requeued
    }

    /// Only players that are queued or in a match need watching; their homes keep the list.
    var busySessions: [(home: PlayerHome, session: PlayerSession)] {
        regionServices.busyPlayers.map { (home: $0.home, session: $0.session) }
    }

    private func drainMovedShards() async {
        let hosts = shardHosts.withLock { $0 }
        for (shard, host) in hosts where stopping.load(ordering: .relaxed) || placement.shardOwner(region: system.region, shard: shard) != system.nodeID {
            await host.whenLocal { $0.drain() }
        }
    }

    private func endMatchesOnLostNodes(_ sessions: [(home: PlayerHome, session: PlayerSession)], members: [Member]) async -> Bool {
        let alive = Set(members.filter { !$0.status.isTerminal }.map(\.id))
        var complete = true
        for (home, session) in sessions {
            guard case .inMatch(let match) = session,
                  !alive.contains(MemberID(node: match.node, incarnation: match.incarnation))
            else { continue }
            do {
                if try await home.serverLost(node: match.node, incarnation: match.incarnation) {
                    logger.info("match lost with its node; player freed", metadata: ["meridian.match": "\(match.matchID)", "meridian.node": "\(match.node)"])
                }
            } catch {
                complete = false
                logger.warning("could not record a lost match yet; will retry", metadata: ["meridian.error": "\(error)"])
            }
        }
        return complete
    }

    /// A safety net for a player whose match no longer exists on its live node without the
    /// player's result having reached here (the match gave up delivering it after its retry
    /// limit, say): normally never needed, since a match is released only after its results
    /// are delivered and a lost node is handled on its membership change. A match is asked
    /// about (one status call) only once this node has seen players in it for longer than a
    /// match can run; once it has been gone for another sweep — time for its own result to
    /// arrive, which counts if it does — the player's match ends as `abandoned`.
    func endVanishedMatches(_ sessions: [(home: PlayerHome, session: PlayerSession)]) async {
        var players: [UUID: [PlayerHome]] = [:]
        var assignments: [UUID: MatchAssignment] = [:]
        for (home, session) in sessions {
            guard case .inMatch(let match) = session else { continue }
            players[match.matchID, default: []].append(home)
            assignments[match.matchID] = match
        }
        let now = system.clock.now
        let longest = Duration.seconds(rules.timeLimitSeconds) + Self.longestMatchMargin
        let overdue = firstSeenInMatch.withLock { seen -> Set<UUID> in
            seen = seen.filter { assignments[$0.key] != nil }
            for matchID in assignments.keys where seen[matchID] == nil { seen[matchID] = now }
            return Set(seen.filter { $0.value.duration(to: now) > longest }.keys)
        }
        var gone: Set<UUID> = []
        for (matchID, assignment) in assignments where overdue.contains(matchID) {
            do {
                _ = try await ClusterSystem.withCallTimeout(.seconds(2)) { @Sendable in try await self.match(assignment).status() }
            } catch let error as ClusterError where error.code == .actorNotFound {
                gone.insert(matchID)
            } catch {
                continue  // unknown: ask again next time
            }
        }
        let due = vanishedSince.withLock { since -> Set<UUID> in
            since = since.filter { gone.contains($0.key) }
            for matchID in gone where since[matchID] == nil { since[matchID] = now }
            return Set(since.filter { $0.value.duration(to: now) >= Self.vanishedSweepInterval }.keys)
        }
        for matchID in due {
            for home in players[matchID] ?? [] {
                if (try? await home.matchVanished(matchID: matchID)) == true {
                    logger.info("match gone without the player's result; player freed", metadata: ["meridian.match": "\(matchID)"])
                }
            }
        }
    }

    /// Every queued ticket owned here must be known to its region's matchmaker: after the
    /// matchmaker moved (its node was lost) the new one starts empty and learns the tickets
    /// from their owners here. Asked in one call per region.
    private func requeueMissingTickets(_ sessions: [(home: PlayerHome, session: PlayerSession)]) async -> Bool {
        var byRegion: [String: [QueueTicket]] = [:]
        for (home, session) in sessions {
            guard case .queued(let ticket, let region) = session,
                  ticket.leader == PlayerPlacement.player(atPath: home.id.path)
            else { continue }
            byRegion[region, default: []].append(ticket)
        }
        var complete = true
        for (region, tickets) in byRegion {
            do {
                let ids = tickets.map(\.id)
                let missing = Set(try await withMatchmaker(of: region) { try await $0.missing(ticketIDs: ids) })
                for ticket in tickets where missing.contains(ticket.id) {
                    do {
                        _ = try await withMatchmaker(of: region) { try await $0.requeue(ticket) }
                        logger.info("ticket queued again at the region's matchmaker", metadata: ["meridian.ticket": "\(ticket.id)", "meridian.region": "\(region)"])
                    } catch {
                        // Cancelled meanwhile (the home refuses; the next pass finds it idle), or
                        // the matchmaker moved again: try again.
                        complete = false
                        logger.debug("ticket not queued again", metadata: ["meridian.ticket": "\(ticket.id)", "meridian.error": "\(error)"])
                    }
                }
            } catch {
                complete = false
                logger.debug("could not check tickets at the matchmaker yet", metadata: ["meridian.region": "\(region)", "meridian.error": "\(error)"])
            }
        }
        return complete
    }

    // MARK: Shutdown

    /// Leaving on purpose: stop taking matches, let running ones finish (up to `drainTimeout`,
    /// by default the rules' match time limit plus 15 s), then stop. Shards move to the other
    /// nodes when this node leaves the membership; a match still running then ends as
    /// "server lost" for its players.
    public func shutdown(drainTimeout: Duration? = nil) async {
        let drainTimeout = drainTimeout ?? .seconds(rules.timeLimitSeconds + 15)
        stopping.store(true, ordering: .relaxed)
        let released = shardsReleased.subscribe(buffer: 1)
        await drainMovedShards()
        // Until the last shard is released (its last match over), or the drain time is up.
        _ = try? await firstValue(
            of: { [weak self] in self?.shardHosts.withLock { $0.isEmpty } != false ? true : nil }, checkedOn: released,
            timeout: drainTimeout, clock: system.clock, timeoutMessage: { "matches still running after \(drainTimeout)" }
        )
        for matchmaker in matchmakers.withLock({ Array($0.values) }) { await matchmaker.whenLocal { $0.stop() } }
        watcher.withLock { $0 }?.cancel()
    }

    /// Lets the node's client gateway report how many clients are connected (``GameFront/nodeStats()``).
    public func setOnlineClientsProvider(_ provider: @escaping @Sendable () -> Int) {
        onlineClientsProvider.withLock { $0 = StoredClosure(provider) }
    }

    func onlineClients() -> Int {
        onlineClientsProvider.withLock { $0 }?.call() ?? 0
    }

    /// The region's matchmaker, if it runs on this node.
    var localMatchmaker: Matchmaker? {
        matchmakers.withLock { $0[system.region] }
    }

    func localMatches() async -> [MatchActor] {
        var matches: [MatchActor] = []
        for host in shardHosts.withLock({ Array($0.values) }) {
            matches += await host.whenLocal { $0.localMatches() } ?? []
        }
        return matches
    }
}

/// The game services as their actors see them: weakly (the services own the actors).
final class GameServicesReference: Sendable {
    private struct Box { weak var value: GameServices? }
    private let box = Mutex(Box())

    var value: GameServices? { box.withLock { $0.value } }

    func set(_ value: GameServices) { box.withLock { $0.value = value } }
}
