import Distributed
import Foundation
import MeridianCluster
import MeridianRegion
import MeridianStorage

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
        try await services().matchmaker(of: region).enqueue(ticket)
    }

    public distributed func cancel(ticketID: UUID, region: String) async throws -> Bool {
        try await services().matchmaker(of: region).cancel(ticketID: ticketID)
    }

    public distributed func ticketStatus(ticketID: UUID, region: String) async throws -> String {
        try await services().matchmaker(of: region).ticketStatus(ticketID: ticketID)
    }

    /// The matches running on this node.
    public distributed func localMatches() async throws -> [MatchStatusView] {
        var views: [MatchStatusView] = []
        for match in try await services().localMatches() {
            if let view = try? await match.status() { views.append(view) }
        }
        return views
    }

    /// What this node's game layer is doing now (for `meridian local` and operators). The tick
    /// figures cover the time since the previous call.
    public distributed func nodeStats() async throws -> GameNodeStats {
        let game = try services()
        var phases: [String: Int] = [:]
        for match in await game.localMatches() {
            if let status = try? await match.status() { phases[status.phase, default: 0] += 1 }
        }
        let ticks = game.statistics.drain()
        var queued = 0
        if let matchmaker = game.localMatchmaker, let summary = try? await matchmaker.summary() { queued = summary[1] }
        return GameNodeStats(
            matchesByPhase: phases, ticks: Int(ticks.ticks), tickMeanMicroseconds: ticks.meanMicroseconds,
            tickMaxMicroseconds: ticks.maxMicroseconds, ticksSinceStart: Int(ticks.ticksSinceStart),
            tickMicrosecondsSinceStart: ticks.microsecondsSinceStart, queuedPlayers: queued, onlineClients: game.onlineClients(),
            ledgerCommands: await game.regionServices.writer.statistics.commands,
            residentBytes: Self.residentBytes()
        )
    }

    /// This process's resident memory (Linux `/proc/self/statm`), 0 where unavailable.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    private func services() throws -> GameServices {
        guard let game = game.value else { throw ClusterError(.actorNotFound, "the game layer of \(actorSystem.nodeID) is shutting down") }
        return game
    }
}

/// One node's game figures, as ``GameFront/nodeStats()`` reports them.
public struct GameNodeStats: Sendable, Hashable, WireCodable {
    public var matchesByPhase: [String: Int]
    public var ticks: Int
    public var tickMeanMicroseconds: Double
    public var tickMaxMicroseconds: Double
    /// Ticks and their summed time since the node started (see ``TickStatistics/Summary``).
    public var ticksSinceStart: Int
    public var tickMicrosecondsSinceStart: Double
    /// Players waiting in the region's matchmaker, if it runs on this node.
    public var queuedPlayers: Int
    /// Clients connected to this node's gateway.
    public var onlineClients: Int
    /// Ledger commands this node's writer applied since it started.
    public var ledgerCommands: Int
    /// The node process's resident memory in bytes (0 where unknown).
    public var residentBytes: Int

    public func encode(to writer: inout WireWriter) throws {
        try writer.write(matchesByPhase)
        try writer.write(ticks)
        try writer.write(tickMeanMicroseconds)
        try writer.write(tickMaxMicroseconds)
        try writer.write(ticksSinceStart)
        try writer.write(tickMicrosecondsSinceStart)
        try writer.write(queuedPlayers)
        try writer.write(onlineClients)
        try writer.write(ledgerCommands)
        try writer.write(residentBytes)
    }

    public init(from reader: inout WireReader) throws {
        matchesByPhase = try reader.read()
        ticks = try reader.read()
        tickMeanMicroseconds = try reader.read()
        tickMaxMicroseconds = try reader.read()
        ticksSinceStart = try reader.read()
        tickMicrosecondsSinceStart = try reader.read()
        queuedPlayers = try reader.read()
        onlineClients = try reader.read()
        ledgerCommands = try reader.read()
        residentBytes = try reader.read()
    }

    init(
        matchesByPhase: [String: Int], ticks: Int, tickMeanMicroseconds: Double, tickMaxMicroseconds: Double,
        ticksSinceStart: Int, tickMicrosecondsSinceStart: Double, queuedPlayers: Int, onlineClients: Int, ledgerCommands: Int, residentBytes: Int
    ) {
        self.matchesByPhase = matchesByPhase
        self.ticks = ticks
        self.tickMeanMicroseconds = tickMeanMicroseconds
        self.tickMaxMicroseconds = tickMaxMicroseconds
        self.ticksSinceStart = ticksSinceStart
        self.tickMicrosecondsSinceStart = tickMicrosecondsSinceStart
        self.queuedPlayers = queuedPlayers
        self.onlineClients = onlineClients
        self.ledgerCommands = ledgerCommands
        self.residentBytes = residentBytes
    }
}
