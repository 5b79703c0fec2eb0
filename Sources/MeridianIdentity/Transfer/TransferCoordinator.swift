import Distributed
import Foundation
import Logging
import MeridianClock
import MeridianCluster
import MeridianStorage
import MeridianTopology
import MeridianWire
import SwiftProtobuf

/// Runs cross-region transfers of players' homes: one per player at a time, on the identity
/// authority's node (at ``TransferCoordinator/path``), over the authority's store, which records
/// each transfer's step before the next one starts (``TransferSaga``).
///
/// The steps go to the ``TransferAgent`` on the player's owner node in the source and in the
/// destination region; the flip is a directory write in the authority's own store, pushed to
/// every node. What can go wrong, and what happens then:
/// - a store says no (the player is in a match, its ledger has a trade still settling, the
///   export is inconsistent): before the flip the transfer rolls back, after it the step is
///   retried (a committed transfer only goes forward);
/// - an agent cannot be reached (its node is down or partitioned): the step is retried with a
///   growing pause; before the flip it gives up after ``IdentityConfiguration/Transfer/attemptsBeforeRollback``
///   and rolls back — also at the first step, since a freeze whose reply was lost may have happened;
/// - this node dies: the record stays at the last step that completed; the coordinator that
///   starts with the authority (``resumeOpenTransfers()``) carries every open transfer on.
package distributed actor TransferCoordinator {
    package typealias ActorSystem = ClusterSystem

    /// The well-known path of the coordinator on the authority's node.
    package static let path = "/system/transfers"

    let store: any AccountStore
    let topology: Topology
    let configuration: IdentityConfiguration
    let now: @Sendable () -> Date
    /// Pushes a changed directory entry to every node.
    let publish: @Sendable (DirectoryEntry) async -> Void
    let faults: FaultInjection
    let logger: Logger
    /// Transfers running here, by id: a second request for the same transfer awaits the same run.
    private var running: [UUID: Task<TransferRecord, Never>] = [:]

    init(
        actorSystem: ClusterSystem, store: any AccountStore, topology: Topology, configuration: IdentityConfiguration,
        now: @escaping @Sendable () -> Date, publish: @escaping @Sendable (DirectoryEntry) async -> Void,
        faults: FaultInjection = FaultInjection(), logger: Logger
    ) {
        self.actorSystem = actorSystem
        self.store = store
        self.topology = topology
        self.configuration = configuration
        self.now = now
        self.publish = publish
        self.faults = faults
        self.logger = logger
    }

    // MARK: Requests

    /// Moves `player`'s home to `region` and returns the transfer once it ended (`done` or
    /// `rolled_back`, with the reason), or a refusal when it cannot start (an unknown player or
    /// region, the player's home already, a transfer of the player under way).
    package distributed func transfer(player: UUID, to region: String) async -> Meridian_Transfer_V1_TransferReply {
        let record: TransferRecord
        do {
            try actorSystem.requireMemberCaller(for: "move players' homes")
        } catch {
            return .with { $0.refusal = "\(error)" }
        }
        do {
            record = try await begin(player: player, to: region)
        } catch {
            return .with { $0.refusal = error.message }
        }
        let ended = await run(record)
        return .with { $0.status = Self.status(ended) }
    }

    /// The player's own request to move home: as ``transfer(player:to:)``, but refused within
    /// ``IdentityConfiguration/Transfer/playerCooldown`` of the player's last completed transfer.
    package distributed func transferRequestedByPlayer(player: UUID, to region: String) async -> Meridian_Transfer_V1_TransferReply {
        do {
            if let last = try await store.transfers(of: player, limit: 1).first, last.step == .done {
                let cooldown = configuration.transfer.playerCooldown
                let allowedAt = last.updatedAt.addingTimeInterval(Double(cooldown.components.seconds))
                guard now() >= allowedAt else {
                    let when = ISO8601DateFormatter().string(from: allowedAt)
                    return .with { $0.refusal = "you moved home recently; you can move again after \(when)" }
                }
            }
        } catch {
            return .with { $0.refusal = "the identity store did not answer; retry" }
        }
        return await transfer(player: player, to: region)
    }

    /// The player's most recent transfer, if any.
    package distributed func latest(player: UUID) async -> Meridian_Transfer_V1_TransferReply {
        do {
            guard let record = try await store.transfers(of: player, limit: 1).first else {
                return .with { $0.refusal = "player \(player.uuidString.lowercased()) was never transferred" }
            }
            return .with { $0.status = Self.status(record) }
        } catch {
            return .with { $0.refusal = "the identity store did not answer: \(error.message)" }
        }
    }

    /// Carries on every transfer the store records as open (after this node restarted).
    package func resumeOpenTransfers() async {
        let open: [TransferRecord]
        do { open = try await store.openTransfers() } catch {
            logger.warning("could not read the open transfers; they resume when the authority restarts", metadata: ["meridian.error": "\(error)"])
            return
        }
        for record in open where running[record.id] == nil {
            logger.info("resuming a transfer", metadata: Self.metadata(record))
            _ = start(record)
        }
    }

    /// Waits for every transfer running here (tests, and a graceful stop).
    package func settled() async {
        for task in running.values { _ = await task.value }
    }

    // MARK: The saga

    private func begin(player: UUID, to region: String) async throws(IdentityRefusal) -> TransferRecord {
        guard topology.region(named: region) != nil else { throw IdentityRefusal(.invalidRequest, "no region \(region) in the topology") }
        let account: AccountRecord
        do {
            guard let found = try await store.account(player) else {
                throw IdentityRefusal(.invalidRequest, "no player \(player.uuidString.lowercased()) exists")
            }
            account = found
        } catch let refusal as IdentityRefusal {
            throw refusal
        } catch {
            throw IdentityRefusal(.unavailable, "the identity store did not answer; retry")
        }
        guard account.homeRegion != region else { throw IdentityRefusal(.invalidRequest, "\(region) is the player's home already") }
        let time = now()
        let record = TransferRecord(id: UUID(), player: player, from: account.homeRegion, to: region, fromEpoch: account.epoch, startedAt: time)
        do {
            try await store.beginTransfer(record)
        } catch {
            throw error.code == .alreadyExists
                ? IdentityRefusal(.invalidRequest, error.message)
                : IdentityRefusal(.unavailable, "the identity store did not answer; retry")
        }
        logger.info("transfer begun", metadata: Self.metadata(record))
        faults.reached(.afterTransfer(.begun))
        return record
    }

    private func run(_ record: TransferRecord) async -> TransferRecord {
        if let task = running[record.id] { return await task.value }
        return await start(record).value
    }

    private func start(_ record: TransferRecord) -> Task<TransferRecord, Never> {
        let task = Task { await self.drive(record) }
        running[record.id] = task
        return task
    }

    private func finished(_ id: UUID) {
        running[id] = nil
    }

    /// Carries the saga out step by step; returns the record as it ended (or as it stood when
    /// this run stopped: cancelled, or the authority's own store unreachable for good).
    private func drive(_ record: TransferRecord) async -> TransferRecord {
        defer { finished(record.id) }
        var saga = TransferSaga(record)
        var action = saga.resume()
        /// The frozen player's data, read with the freeze (read again after a restart).
        var export: Meridian_Transfer_V1_PlayerExport?
        var attempts = 0
        let pauses = configuration.transfer
        while action != .finished, !Task.isCancelled {
            let outcome = await perform(action, saga.state, export: &export)
            let before = saga.state
            do {
                switch outcome {
                case .done:
                    attempts = 0
                    action = try saga.succeeded(action)
                case .refused(let reason) where saga.state.step.isCommitted || saga.state.step == .rollingBack:
                    // Only forward (or only back): the same step again after a pause, until it works.
                    attempts += 1
                    logger.warning("a transfer step was refused; retrying", metadata: Self.metadata(saga.state).merging(["meridian.error": "\(reason)"]) { $1 })
                    try? await actorSystem.clock.sleep(until: actorSystem.clock.now.advanced(by: pauses.maximumRetryPause))
                    continue
                case .refused(let reason):
                    attempts = 0
                    action = try saga.failed(action, reason: reason)
                case .unreachable(let reason):
                    attempts += 1
                    if !saga.state.step.isCommitted, action != .flipDirectory, attempts >= pauses.attemptsBeforeRollback {
                        action = try saga.gaveUp(action, reason: "gave up after \(attempts) attempts: \(reason)")
                        attempts = 0
                    } else {
                        let pause = min(pauses.retryPause * (1 << min(attempts - 1, 10)), pauses.maximumRetryPause)
                        try? await actorSystem.clock.sleep(until: actorSystem.clock.now.advanced(by: pause))
                        continue
                    }
                }
            } catch {
                // A report that does not fit the step is a bug here: stop rather than guess.
                logger.error("transfer saga refused a report; the transfer stops until the authority restarts", metadata: [
                    "meridian.error": "\(error)", "meridian.transfer": "\(record.id)",
                ])
                return saga.state
            }
            guard saga.state != before else { continue }
            saga.stamp(now())
            guard await persist(saga.state) else { return saga.state }
            logger.debug("transfer step", metadata: Self.metadata(saga.state))
            faults.reached(.afterTransfer(saga.state.step))
            if let hook = configuration.afterTransferStep {
                do { try await hook(saga.state) } catch { return saga.state }
            }
        }
        if saga.state.step == .done {
            logger.info("transfer done", metadata: Self.metadata(saga.state))
        } else if saga.state.step == .rolledBack {
            logger.info("transfer rolled back", metadata: Self.metadata(saga.state).merging(["meridian.error": "\(saga.state.failure ?? "")"]) { $1 })
        }
        return saga.state
    }

    /// Records the step, retrying while the authority's store cannot be reached (the step the
    /// record shows must never run behind the one carried out by more than this write).
    private func persist(_ state: TransferRecord) async -> Bool {
        var pause = configuration.transfer.retryPause
        while !Task.isCancelled {
            do {
                try await store.updateTransfer(state)
                return true
            } catch {
                logger.warning("could not record a transfer step; retrying", metadata: ["meridian.error": "\(error)"])
                try? await actorSystem.clock.sleep(until: actorSystem.clock.now.advanced(by: pause))
                pause = min(pause * 2, configuration.transfer.maximumRetryPause)
            }
        }
        return false
    }

    private enum Outcome {
        case done
        /// The store said no: the same step would be refused again.
        case refused(String)
        /// No answer (a node down, a timeout, a store that could not commit): the step may pass later.
        case unreachable(String)
    }

    private func perform(_ action: TransferSaga.Action, _ state: TransferRecord, export: inout Meridian_Transfer_V1_PlayerExport?) async -> Outcome {
        let player = state.player
        switch action {
        case .freezeSource:
            let reply = await agent(in: state.from, of: player) { try await $0.freezeAndExport(player: player, epoch: state.fromEpoch.rawValue) }
            if case .success(let done) = reply { export = done.export }
            return Self.outcome(reply)
        case .copyToDestination:
            if export == nil {
                let reply = await agent(in: state.from, of: player) { try await $0.export(player: player) }
                guard case .success(let done) = reply else { return Self.outcome(reply) }
                export = done.export
            }
            guard let sent = export else { return .unreachable("no export") }
            return Self.outcome(await agent(in: state.to, of: player) { try await $0.importPlayer(sent, epoch: state.toEpoch.rawValue) })
        case .flipDirectory:
            do {
                let moved = try await store.setHome(player, region: state.to, epoch: state.toEpoch)
                // Pushed without waiting for the farthest region: the saga goes on at once, and a
                // node that misses the push catches up from the authority (IdentityNode.catchUp).
                let (publish, entry) = (self.publish, DirectoryEntry(moved))
                Task { await publish(entry) }
                return .done
            } catch where error.code == .unavailable || error.code == .backend {
                return .unreachable(error.message)
            } catch {
                return .refused(error.message)
            }
        case .activateDestination:
            return Self.outcome(await agent(in: state.to, of: player) { try await $0.activate(player: player, epoch: state.toEpoch.rawValue) })
        case .tombstoneSource:
            return Self.outcome(await agent(in: state.from, of: player) { try await $0.tombstone(player: player) })
        case .discardDestination:
            return Self.outcome(await agent(in: state.to, of: player) { try await $0.discard(player: player) })
        case .unfreezeSource:
            return Self.outcome(await agent(in: state.from, of: player) { try await $0.unfreeze(player: player) })
        case .finished:
            return .done
        }
    }

    /// Calls the agent on the node that holds `player`'s data in `region`.
    private func agent(
        in region: String, of player: UUID, _ call: @escaping @Sendable (TransferAgent) async throws -> Meridian_Transfer_V1_AgentReply
    ) async -> Result<Meridian_Transfer_V1_AgentReply, AgentFailure> {
        guard let node = actorSystem.playerOwner(of: player, region: region, topology: topology) else {
            return .failure(AgentFailure(reply: TransferAgent.refusal("region \(region) has no nodes", retryable: false)))
        }
        do {
            let agent = try TransferAgent.resolve(id: ClusterActorID(node: node, incarnation: 0, path: TransferAgent.path), using: actorSystem)
            let reply = try await ClusterSystem.withCallTimeout(configuration.callTimeout) { try await call(agent) }
            return reply.refusal.isEmpty ? .success(reply) : .failure(AgentFailure(reply: reply))
        } catch {
            return .failure(AgentFailure(reply: TransferAgent.refusal("node \(node) did not answer: \(error)", retryable: true)))
        }
    }

    private struct AgentFailure: Error {
        var reply: Meridian_Transfer_V1_AgentReply
    }

    private static func outcome(_ result: Result<Meridian_Transfer_V1_AgentReply, AgentFailure>) -> Outcome {
        switch result {
        case .success: .done
        case .failure(let failure) where failure.reply.retryable: .unreachable(failure.reply.refusal)
        case .failure(let failure): .refused(failure.reply.refusal)
        }
    }

    package static func status(_ record: TransferRecord) -> Meridian_Transfer_V1_TransferStatus {
        var status = Meridian_Transfer_V1_TransferStatus()
        status.id = record.id.wireBytes
        status.player = record.player.wireBytes
        status.fromRegion = record.from
        status.toRegion = record.to
        status.fromEpoch = record.fromEpoch.rawValue
        status.step = record.step.rawValue
        status.failure = record.failure ?? ""
        status.startedAtMs = Int64(record.startedAt.milliseconds)
        status.updatedAtMs = Int64(record.updatedAt.milliseconds)
        return status
    }

    static func metadata(_ record: TransferRecord) -> Logger.Metadata {
        [
            "meridian.transfer": "\(record.id)", "meridian.player": "\(record.player)", "meridian.transfer.from": "\(record.from)",
            "meridian.transfer.to": "\(record.to)", "meridian.transfer.step": "\(record.step.rawValue)", "meridian.epoch": "\(record.fromEpoch)",
        ]
    }
}

extension FaultInjection.Point {
    /// The transfer coordinator recorded `step` and has not started the next one.
    package static func afterTransfer(_ step: TransferStep) -> Self {
        Self(rawValue: "kill-after-transfer-\(step.rawValue.replacingOccurrences(of: "_", with: "-"))")
    }
}
