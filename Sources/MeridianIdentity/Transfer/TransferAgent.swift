import Distributed
import Foundation
import Logging
import MeridianCluster
import MeridianStorage
import MeridianWire

/// Every node runs one at ``TransferAgent/path``: the transfer coordinator (at the identity
/// authority) carries out each step of a player's transfer in the store of the node that holds
/// the player's data — the player's owner node in the source and in the destination region
/// (``PlayerPlacement``). Every step is idempotent in the store, so the coordinator may repeat
/// one after a crash or a lost reply.
///
/// A refusal is an answer, not a thrown error (``Meridian_Transfer_V1_AgentReply``): the
/// coordinator must tell a store that said no (roll back) from one it could not reach (retry).
package distributed actor TransferAgent {
    package typealias ActorSystem = ClusterSystem

    /// The well-known path of every node's agent.
    package static let path = "/system/transfer-agent"

    let store: any RegionStore
    /// Why the player cannot be frozen now (queued or in a match on this node), or nil.
    let busy: @Sendable (PlayerID) async -> String?
    let faults: FaultInjection
    let logger: Logger

    init(
        actorSystem: ClusterSystem, store: any RegionStore, busy: @escaping @Sendable (PlayerID) async -> String?,
        faults: FaultInjection = FaultInjection(), logger: Logger
    ) {
        self.actorSystem = actorSystem
        self.store = store
        self.busy = busy
        self.faults = faults
        self.logger = logger
    }

    /// Freezes the player (every write refused from now on) and returns the player's data read in
    /// one snapshot. Refused while the player is queued or in a match here: a result on its way
    /// would meet a frozen store.
    ///
    /// Either both happen or the player is left unfrozen: the coordinator takes a refusal of this
    /// step as "nothing frozen" and ends the transfer without a rollback. The export can refuse
    /// after the freeze committed (trades still in escrow), and an earlier attempt whose answer
    /// was lost may have frozen the player: both are undone here before the refusal goes back.
    package distributed func freezeAndExport(player: UUID, epoch: Int64) async -> Meridian_Transfer_V1_AgentReply {
        await step("freeze", player) { store throws(StorageError) in
            var reply = Meridian_Transfer_V1_AgentReply()
            if let current = try await store.player(player), current.state == .active {
                guard current.epoch.rawValue == epoch else {
                    throw StorageError(.staleEpoch(current: current.epoch), "the source holds player \(player) at epoch \(current.epoch), the directory at \(epoch)")
                }
                if let reason = await busy(player) { throw StorageError(.invalidArgument, reason) }
            }
            let frozen = try await store.freeze(player)
            let export: PlayerExport
            do throws(StorageError) {
                export = try await store.exportPlayer(player)
            } catch {
                do throws(StorageError) {
                    _ = try await store.unfreeze(player)
                } catch let undo {
                    // Still frozen: answer "try again", so that the coordinator either exports on
                    // a later attempt or rolls back (unfreezing) when it gives up.
                    throw StorageError(.unavailable, "the export was refused (\(error.message)) and the freeze could not be undone (\(undo.message)); retry")
                }
                throw error
            }
            reply.epoch = frozen.epoch.rawValue
            reply.export = export.proto
            return reply
        }
    }

    /// The frozen player's data again (a coordinator that restarted after the freeze).
    package distributed func export(player: UUID) async -> Meridian_Transfer_V1_AgentReply {
        await step("export", player) { store throws(StorageError) in
            let export = try await store.exportPlayer(player)
            var reply = Meridian_Transfer_V1_AgentReply()
            reply.epoch = export.profile.epoch.rawValue
            reply.export = export.proto
            return reply
        }
    }

    /// Writes the export as an `incoming` copy at `epoch` (the destination's side of the copy).
    package distributed func importPlayer(_ export: Meridian_Transfer_V1_PlayerExport, epoch: Int64) async -> Meridian_Transfer_V1_AgentReply {
        var decoded: PlayerExport
        do { decoded = try PlayerExport(proto: export) } catch {
            return Self.refusal("the export cannot be read: \(error)", retryable: false)
        }
        // The copy is the source's row for row, except where the player lives now: here.
        decoded.profile.homeRegion = actorSystem.region
        return await step("import", decoded.player) { store throws(StorageError) in
            let profile = try await store.importPlayer(decoded, epoch: Epoch(epoch))
            var reply = Meridian_Transfer_V1_AgentReply()
            reply.epoch = profile.epoch.rawValue
            return reply
        }
    }

    package distributed func activate(player: UUID, epoch: Int64) async -> Meridian_Transfer_V1_AgentReply {
        await step("activate", player) { store throws(StorageError) in
            Self.done(epoch: try await store.activateIncoming(player, epoch: Epoch(epoch)).epoch)
        }
    }

    package distributed func tombstone(player: UUID) async -> Meridian_Transfer_V1_AgentReply {
        await step("tombstone", player) { store throws(StorageError) in Self.done(epoch: try await store.tombstone(player).epoch) }
    }

    /// Deletes the transfer's incoming copy. A copy that is not incoming (the player lives here
    /// already, or never arrived) is not this transfer's: nothing to discard.
    package distributed func discard(player: UUID) async -> Meridian_Transfer_V1_AgentReply {
        await step("discard", player) { store throws(StorageError) in
            if try await store.player(player)?.state == .incoming { try await store.discardIncoming(player) }
            return Meridian_Transfer_V1_AgentReply()
        }
    }

    package distributed func unfreeze(player: UUID) async -> Meridian_Transfer_V1_AgentReply {
        await step("unfreeze", player) { store throws(StorageError) in Self.done(epoch: try await store.unfreeze(player).epoch) }
    }

    // MARK: Replies

    private func step(
        _ name: String, _ player: UUID, _ body: (any RegionStore) async throws(StorageError) -> Meridian_Transfer_V1_AgentReply
    ) async -> Meridian_Transfer_V1_AgentReply {
        do {
            let reply = try await body(store)
            logger.debug("transfer step done", metadata: ["meridian.player": "\(player)", "meridian.transfer.step": "\(name)"])
            faults.reached(.afterAgentStep(name))  // committed, the reply not sent: the coordinator must find out
            return reply
        } catch {
            logger.info("transfer step refused", metadata: [
                "meridian.player": "\(player)", "meridian.transfer.step": "\(name)", "meridian.error": "\(error.codeName): \(error.message)",
            ])
            return Self.refusal(error.message, retryable: Self.isTransient(error))
        }
    }

    /// The store could not run the step now (it did not commit); anything else is its answer.
    static func isTransient(_ error: StorageError) -> Bool {
        switch error.code {
        case .unavailable, .backend: true
        default: false
        }
    }

    static func done(epoch: Epoch) -> Meridian_Transfer_V1_AgentReply {
        var reply = Meridian_Transfer_V1_AgentReply()
        reply.epoch = epoch.rawValue
        return reply
    }

    static func refusal(_ message: String, retryable: Bool) -> Meridian_Transfer_V1_AgentReply {
        var reply = Meridian_Transfer_V1_AgentReply()
        reply.refusal = message.isEmpty ? "refused" : message
        reply.retryable = retryable
        return reply
    }
}

extension Meridian_Transfer_V1_AgentReply: WireCodable {}

extension FaultInjection.Point {
    /// A node's transfer agent committed its step `name` (`freeze`, `import`, `activate`,
    /// `tombstone`, …) and has not replied.
    package static func afterAgentStep(_ name: String) -> Self {
        Self(rawValue: "kill-after-agent-\(name)")
    }
}
