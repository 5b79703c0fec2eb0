import Distributed
import Foundation
import MeridianCatalog
import MeridianCluster
import MeridianRegion
import MeridianStorage
import MeridianTopology
import MeridianWire

/// Every node's entry to the game layer at `/system/game`, for callers outside the
/// membership (the CLI, later the gateways): queue and cancel tickets in any region, ask why a
/// ticket waits, list the matches this node runs.
public distributed actor GameFront {
    public typealias ActorSystem = ClusterSystem

    public static let path = "/system/game"

    let game: GameServicesReference

    init(game: GameServicesReference, actorSystem: ClusterSystem) {
        self.game = game
        self.actorSystem = actorSystem
    }

    /// Queues `ticket` at `region`'s matchmaker; returns why it waits.
    public distributed func queue(_ ticket: QueueTicket, region: String) async throws -> String {
        try await services().withMatchmaker(of: region) { try await $0.enqueue(ticket) }
    }

    public distributed func cancel(ticketID: UUID, region: String) async throws -> Bool {
        try await services().withMatchmaker(of: region) { try await $0.cancel(ticketID: ticketID) }
    }

    public distributed func ticketStatus(ticketID: UUID, region: String) async throws -> String {
        try await services().withMatchmaker(of: region) { try await $0.ticketStatus(ticketID: ticketID) }
    }

    /// The matches running on this node.
    public distributed func localMatches() async throws -> [MatchStatusView] {
        var views: [MatchStatusView] = []
        for match in try await services().localMatches() {
            if let view = try? await match.status() { views.append(view) }
        }
        return views
    }

    /// What this node's game layer is doing now (for `meridian local` and `meridian loadtest`).
    /// The tick mean and maximum cover the time since the previous call.
    public distributed func nodeStats() async throws -> GameNodeStats {
        let game = try services()
        return await stats(game, ticks: game.statistics.drain())
    }

    /// The same figures without starting a new tick window, with the recent ticks' p99 and the
    /// topology and catalog versions the node runs: for the admin console and API, which poll
    /// and must not take the window from `meridian local`'s readings.
    public distributed func overview() async throws -> GameNodeStats {
        let game = try services()
        var stats = await stats(game, ticks: game.statistics.peek())
        stats.tickP99Microseconds = game.statistics.recentPercentile(0.99)
        stats.topologyVersion = game.topology.version
        stats.catalogVersion = game.catalog?.version ?? 0
        return stats
    }

    /// Why the tickets in `region`'s queue wait, the longest-waiting first (at most `limit`).
    public distributed func queue(region: String, limit: Int) async throws -> MatchmakerQueueView {
        try await services().withMatchmaker(of: region) { try await $0.queueView(limit: limit) }
    }

    private func stats(_ game: GameServices, ticks: TickStatistics.Summary) async -> GameNodeStats {
        var phases: [String: Int] = [:]
        for match in await game.localMatches() {
            if let status = try? await match.status() { phases[status.phase, default: 0] += 1 }
        }
        var queued = 0
        if let matchmaker = game.localMatchmaker, let summary = try? await matchmaker.summary() { queued = summary[1] }
        var stats = GameNodeStats()
        stats.matchesByPhase = phases
        stats.ticks = Int(ticks.ticks)
        stats.tickMeanMicroseconds = ticks.meanMicroseconds
        stats.tickMaxMicroseconds = ticks.maxMicroseconds
        stats.ticksSinceStart = Int(ticks.ticksSinceStart)
        stats.tickMicrosecondsSinceStart = ticks.microsecondsSinceStart
        stats.queuedPlayers = queued
        stats.onlineClients = game.onlineClients()
        stats.ledgerCommands = await game.regionServices.writer.statistics.commands
        stats.residentBytes = Self.residentBytes()
        stats.cpuSeconds = Self.cpuSeconds()
        stats.localActors = actorSystem.localActorCount
        return stats
    }

    /// This process's resident memory (Linux `/proc/self/statm`), 0 where unavailable.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// User plus system CPU time this process used since it started (`getrusage`).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        let who = RUSAGE_SELF.rawValue  // an enum in Glibc, a plain Int32 elsewhere
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return 0 }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    private func services() throws -> GameServices {
        guard let game = game.value else { throw ClusterError(.actorNotFound, "the game layer of \(actorSystem.nodeID) is shutting down") }
        return game
    }
}

/// One node's game figures, as ``GameFront/nodeStats()`` reports them.
public struct GameNodeStats: Sendable, Hashable {
    public var matchesByPhase: [String: Int] = [:]
    public var ticks = 0
    public var tickMeanMicroseconds = 0.0
    public var tickMaxMicroseconds = 0.0
    /// Ticks and their summed time since the node started (see ``TickStatistics/Summary``).
    public var ticksSinceStart = 0
    public var tickMicrosecondsSinceStart = 0.0
    /// Players waiting in the region's matchmaker, if it runs on this node.
    public var queuedPlayers = 0
    /// Clients connected to this node's gateway.
    public var onlineClients = 0
    /// Ledger commands this node's writer applied since it started.
    public var ledgerCommands = 0
    /// The node process's resident memory in bytes (0 where unknown).
    public var residentBytes = 0
    /// Actors living on the node: players in memory (idle ones are passivated), matches,
    /// shards and system actors.
    public var localActors = 0
    /// User plus system CPU time the node process used since it started, in seconds.
    public var cpuSeconds = 0.0
    /// The 99th percentile of the latest ticks (``GameFront/overview()`` only; 0 otherwise).
    public var tickP99Microseconds = 0.0
    /// The topology version the node runs (``GameFront/overview()`` only).
    public var topologyVersion = 0
    /// The catalog version the node serves, 0 without a catalog (``GameFront/overview()`` only).
    public var catalogVersion: UInt64 = 0

    public init() {}
}

/// Travels as `meridian.game.v1.NodeStats`: tools of one version ask nodes of another.
extension GameNodeStats: ProtobufRepresented {
    package var proto: Meridian_Game_V1_NodeStats {
        var message = Meridian_Game_V1_NodeStats()
        message.matchesByPhase = matchesByPhase.mapValues(Int64.init)
        message.ticks = Int64(ticks)
        message.tickMeanUs = tickMeanMicroseconds
        message.tickMaxUs = tickMaxMicroseconds
        message.ticksSinceStart = Int64(ticksSinceStart)
        message.tickUsSinceStart = tickMicrosecondsSinceStart
        message.queuedPlayers = Int64(queuedPlayers)
        message.onlineClients = Int64(onlineClients)
        message.ledgerCommands = Int64(ledgerCommands)
        message.residentBytes = Int64(residentBytes)
        message.localActors = Int64(localActors)
        message.cpuSeconds = cpuSeconds
        message.tickP99Us = tickP99Microseconds
        message.topologyVersion = Int64(topologyVersion)
        message.catalogVersion = catalogVersion
        return message
    }

    package init(proto message: Meridian_Game_V1_NodeStats) {
        matchesByPhase = message.matchesByPhase.mapValues { Int(clamping: $0) }
        ticks = Int(clamping: message.ticks)
        tickMeanMicroseconds = message.tickMeanUs
        tickMaxMicroseconds = message.tickMaxUs
        ticksSinceStart = Int(clamping: message.ticksSinceStart)
        tickMicrosecondsSinceStart = message.tickUsSinceStart
        queuedPlayers = Int(clamping: message.queuedPlayers)
        onlineClients = Int(clamping: message.onlineClients)
        ledgerCommands = Int(clamping: message.ledgerCommands)
        residentBytes = Int(clamping: message.residentBytes)
        localActors = Int(clamping: message.localActors)
        cpuSeconds = message.cpuSeconds
        tickP99Microseconds = message.tickP99Us
        topologyVersion = Int(clamping: message.topologyVersion)
        catalogVersion = message.catalogVersion
    }
}
