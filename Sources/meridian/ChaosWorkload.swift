import Foundation
import Logging
import MeridianChaos
import MeridianCluster
import MeridianIdentity
import MeridianNode
import MeridianRegion
import MeridianSimulation
import MeridianTopology
import MeridianWire
import Synchronization

/// The operations a chaos run makes besides the bots' play: trades between its players (across
/// regions), grants and consumes of gems with idempotency keys, transfers of home regions, and
/// catalog publishes. Every operation is sent again with the same key or id until the cluster
/// acknowledges it (a fault may eat the request or the answer), and acknowledged grants,
/// consumes and trades are sent once more on purpose: the cluster must recognise the replay.
///
/// Each player belongs to one lane, and a lane runs its operations one after another, so what a
/// player must hold of gems is exactly what its lane's acknowledged operations add up to.
final class ChaosWorkload: Sendable {
    struct Player: Sendable, Hashable {
        var id: UUID
        var index: Int
        var lane: Int
    }

    /// Attempted, acknowledged and unresolved operations of one kind.
    struct Tally: Sendable, Codable {
        var attempted = 0
        var acknowledged = 0
        /// Operations still not acknowledged at the end, with their last error.
        var unresolved: [String] = []
    }

    private struct State {
        var tallies: [String: Tally] = [:]
        var model = ChaosLedgerModel()
        var trades: [UUID] = []
        var tradeViolations: [String] = []
        /// The region each transferred player was last acknowledged moving to.
        var movedTo: [UUID: String] = [:]
        var catalogVersions: [UInt64] = []
    }

    let cluster: ChaosCluster
    let seed: UInt64
    let players: [Player]
    let lanes: Int
    let logger: Logger
    private let state = Mutex(State())

    init(cluster: ChaosCluster, seed: UInt64, players: [Player], lanes: Int, logger: Logger) {
        self.cluster = cluster
        self.seed = seed
        self.players = players
        self.lanes = lanes
        self.logger = logger
    }

    var tallies: [String: Tally] { state.withLock { $0.tallies } }
    var model: ChaosLedgerModel { state.withLock { $0.model } }
    var acknowledgedTrades: [UUID] { state.withLock { $0.trades } }
    var tradeViolations: [String] { state.withLock { $0.tradeViolations } }
    var movedTo: [UUID: String] { state.withLock { $0.movedTo } }
    var catalogVersions: [UInt64] { state.withLock { $0.catalogVersions } }

    // MARK: - Setting up

    /// Creates `count` accounts spread over the regions, each with its player and 1,000,000 gold.
    static func createPlayers(count: Int, lanes: Int, seed: UInt64, cluster: ChaosCluster, logger: Logger) async throws -> [Player] {
        var players: [Player] = []
        let authority = AuthorityClient(system: cluster.client.system, topology: cluster.topology, timeout: .seconds(30), logger: logger)
        for index in 0..<count {
            let region = ChaosCluster.regions[index % ChaosCluster.regions.count]
            var request = Meridian_Identity_V1_AdminCreateAccount()
            request.password.username = "chaos\(seed % 1_000_000)-\(index)"
            request.password.password = "chaos password \(seed) \(index)"
            request.homeRegion = region
            let sent = request
            let id = try await Self.retrying("create account \(index)", for: .seconds(60)) { () async throws -> UUID in
                let reply = try await authority.call { try await $0.createAccount(sent) }
                return try AccountCommand.Create.grant(reply).account.player
            }
            try await Self.retrying("create player \(index)", for: .seconds(60)) {
                _ = try await PlayerDirectory(system: cluster.client.system, topology: cluster.topology).home(of: id, region: region).create(displayName: "chaos-\(index)")
            }
            try await Self.retrying("welcome grant \(index)", for: .seconds(60)) {
                let gate = try await cluster.gate()
                _ = try await gate.grant(token: cluster.adminToken, player: id, region: region, item: "gold", count: 1_000_000, idempotencyKey: "chaos-\(seed)-welcome-\(index)")
            }
            players.append(Player(id: id, index: index, lane: index % lanes))
        }
        return players
    }

    // MARK: - Running

    /// Runs every lane and the catalog publisher until `stopIssuing`; operations under way then
    /// go on (retried) until `deadline`.
    func run(stopIssuing: ContinuousClock.Instant, deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask { await self.runLane(lane, stopIssuing: stopIssuing, deadline: deadline) }
            }
            group.addTask { await self.publishCatalogs(stopIssuing: stopIssuing, deadline: deadline) }
        }
    }

    private func runLane(_ lane: Int, stopIssuing: ContinuousClock.Instant, deadline: ContinuousClock.Instant) async {
        var random = SplitMix64(seed: seed &+ UInt64(lane) &* 0x9E37_79B9)
        let mine = players.filter { $0.lane == lane }
        guard !mine.isEmpty else { return }
        var number = 0
        while ContinuousClock.now < stopIssuing {
            number += 1
            let player = mine[Int(random.next(below: UInt32(mine.count)))]
            let roll = random.next(below: 100)
            let key = "chaos-\(seed)-\(lane)-\(number)"
            switch roll {
            case 0..<40:
                let others = players.filter { $0.id != player.id }
                let receiver = others[Int(random.next(below: UInt32(others.count)))]
                let tradeID = UUID(uuid: Self.uuidBytes(&random))
                await trade(from: player, to: receiver, id: tradeID, count: Int64(1 + random.next(below: 20)), deadline: deadline)
            case 40..<65:
                await ledger(.grant, player: player, count: Int64(1 + random.next(below: 50)), key: key, deadline: deadline)
            case 65..<88:
                let count = Int64(1 + random.next(below: 20))
                if model.expectedBalance(of: player.id.uuidString) >= count {
                    await ledger(.consume, player: player, count: count, key: key, deadline: deadline)
                }
            default:
                let destination = ChaosCluster.regions[Int(random.next(below: UInt32(ChaosCluster.regions.count)))]
                await transfer(player, to: destination, deadline: deadline)
            }
            try? await Task.sleep(for: .milliseconds(100 + Int(random.next(below: 400))))
        }
    }

    private enum LedgerOperation: String { case grant, consume }

    private func ledger(_ operation: LedgerOperation, player: Player, count: Int64, key: String, deadline: ContinuousClock.Instant) async {
        let delta = operation == .grant ? count : -count
        let send: @Sendable () async throws -> LedgerReceiptView = { [cluster] in
            switch operation {
            case .grant:
                let gate = try await cluster.gate()
                return try await gate.grant(token: cluster.adminToken, player: player.id, region: nil, item: "gems", count: count, idempotencyKey: key)
            case .consume:
                return try await self.home(of: player.id).consume(item: "gems", count: count, idempotencyKey: key)
            }
        }
        // Sent until acknowledged, then once more on purpose.
        for replay in [false, true] {
            guard let receipt = await attempt(operation.rawValue, "\(operation.rawValue) \(count) gems \(key) of \(player.id)", counted: !replay, deadline: deadline, send) else { return }
            state.withLock { $0.model.acknowledged(key: key, player: player.id.uuidString, delta: delta, sequence: receipt.sequence, replayed: receipt.replayed) }
        }
    }

    private func trade(from giver: Player, to receiver: Player, id: UUID, count: Int64, deadline: ContinuousClock.Instant) async {
        let send: @Sendable () async throws -> LedgerReceiptView = {
            let receiverRegion = try await self.homeRegion(of: receiver.id)
            return try await self.home(of: giver.id).trade(tradeID: id, to: receiver.id, receiverRegion: receiverRegion, items: ["gold": count])
        }
        guard let first = await attempt("trade", "trade \(id) of \(count) gold from \(giver.id) to \(receiver.id)", counted: true, deadline: deadline, send) else { return }
        state.withLock { $0.trades.append(id) }
        guard let again = await attempt("trade", "trade \(id) sent again", counted: false, deadline: deadline, send) else { return }
        if again.sequence != first.sequence {
            state.withLock { $0.tradeViolations.append("trade \(id) sent again was applied again: giver's sequences \(first.sequence) and \(again.sequence)") }
        }
    }

    private func transfer(_ player: Player, to destination: String, deadline: ContinuousClock.Instant) async {
        let done = await attempt("transfer", "transfer of \(player.id) to \(destination)", counted: true, deadline: deadline) { [cluster] () async throws -> Bool in
            let home = try await self.homeRegion(of: player.id)
            if home == destination { return true }
            let gate = try await cluster.gate()
            let reply = try await ClusterSystem.withCallTimeout(.seconds(90)) {
                try await gate.transfer(token: cluster.adminToken, player: player.id, to: destination)
            }
            if case .refusal(let refusal)? = reply.result { throw ChaosClusterError("refused: \(refusal)") }
            guard try await self.homeRegion(of: player.id) == destination else { throw ChaosClusterError("the directory does not name \(destination) yet") }
            return true
        }
        if done == true { state.withLock { $0.movedTo[player.id] = destination } }
    }

    private func publishCatalogs(stopIssuing: ContinuousClock.Instant, deadline: ContinuousClock.Instant) async {
        var round = 0
        while ContinuousClock.now + .seconds(15) < stopIssuing {
            try? await Task.sleep(for: .seconds(15))
            round += 1
            let published = round
            if let version = await attempt("catalog_publish", "catalog publish round \(published)", counted: true, deadline: deadline, { [cluster] in
                try await cluster.publishCatalog(round: published, timeout: .seconds(20))
            }) {
                state.withLock { $0.catalogVersions.append(version) }
            }
        }
    }

    // MARK: - Helpers

    /// Sends `operation` until it succeeds or `deadline` passes; tallies it under `kind`.
    private func attempt<T: Sendable>(
        _ kind: String, _ description: String, counted: Bool, deadline: ContinuousClock.Instant, _ operation: @Sendable () async throws -> T
    ) async -> T? {
        if counted { state.withLock { $0.tallies[kind, default: Tally()].attempted += 1 } }
        var delay = Duration.milliseconds(200)
        var lastError = ""
        while ContinuousClock.now < deadline {
            do {
                let result = try await ClusterSystem.withCallTimeout(.seconds(10)) { try await operation() }
                if counted { state.withLock { $0.tallies[kind, default: Tally()].acknowledged += 1 } }
                return result
            } catch {
                lastError = "\(error)"
                logger.debug("chaos operation failed; retrying", metadata: ["meridian.operation": "\(description)", "meridian.error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(3))
            }
        }
        state.withLock { $0.tallies[kind, default: Tally()].unresolved.append("\(description): \(lastError)") }
        return nil
    }

    func homeRegion(of player: UUID) async throws -> String {
        try await PlayerCommand.Target.homeRegion(of: player, client: cluster.client, topology: cluster.topology, logger: logger)
    }

    func home(of player: UUID) async throws -> PlayerHome {
        try PlayerDirectory(system: cluster.client.system, topology: cluster.topology).home(of: player, region: try await homeRegion(of: player))
    }

    private static func retrying<T: Sendable>(_ what: String, for limit: Duration, _ body: () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + limit
        while true {
            do {
                return try await body()
            } catch {
                if ContinuousClock.now > deadline { throw ChaosClusterError("\(what) failed for \(limit): \(error)") }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    private static func uuidBytes(_ random: inout SplitMix64) -> uuid_t {
        let a = random.next(), b = random.next()
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<8 {
            bytes[index] = UInt8(truncatingIfNeeded: a >> (index * 8))
            bytes[8 + index] = UInt8(truncatingIfNeeded: b >> (index * 8))
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        return (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15])
    }
}
