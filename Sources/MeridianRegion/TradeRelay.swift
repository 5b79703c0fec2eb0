import Foundation
import Logging
import MeridianCluster
import MeridianStorage
import MeridianTopology
import Synchronization

/// Drives this node's trade outbox to completion: every pending trade's receiver leg is
/// delivered to the receiver's home node (``TradeInbox``), then marked delivered — or, when
/// the receiver's region refuses it for good, refunded to the giver. Runs every `interval`
/// and right after a trade (``nudge()``); safe to run again after a crash at any step, because
/// delivery, marking and refunds are all idempotent by trade id.
final class TradeRelay: Sendable {
    let servicesReference: RegionServicesReference
    private let interval: Duration
    private let logger: Logger
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(services: RegionServicesReference, interval: Duration = .milliseconds(250), logger: Logger) {
        self.servicesReference = services
        self.interval = interval
        self.logger = logger
    }

    func start() {
        let loop = Task { [self] in
            while !Task.isCancelled {
                await drainOnce()
                try? await Task.sleep(for: interval)
            }
        }
        task.withLock { $0 = loop }
    }

    func stop() {
        task.withLock { $0 }?.cancel()
    }

    /// Runs a pass now instead of waiting for the next interval. A pass racing the periodic
    /// one is harmless: delivery, marking and refunds are idempotent by trade id.
    func nudge() {
        Task { await drainOnce() }
    }

    /// One pass over the outbox. Returns how many trades were settled.
    @discardableResult
    func drainOnce() async -> Int {
        guard let services = servicesReference.value else { return 0 }
        let pending: [TradeOutboxEntry]
        do {
            pending = try await services.store.pendingTrades(limit: 128)
        } catch {
            logger.warning("cannot read the trade outbox", metadata: ["meridian.error": "\(error)"])
            return 0
        }
        var settled = 0
        for entry in pending {
            do {
                if try await settle(entry, services: services) { settled += 1 }
            } catch {
                logger.debug("trade not delivered yet; will retry", metadata: ["meridian.trade": "\(entry.tradeID)", "meridian.error": "\(error)"])
            }
        }
        return settled
    }

    private func settle(_ entry: TradeOutboxEntry, services: RegionServices) async throws -> Bool {
        // The node serving the receiver as this node's membership sees it: in a region whose nodes
        // share one store, a node declared down has handed its players to the next in rank.
        guard let owner = services.system.playerOwner(of: entry.receiver, region: entry.destinationRegion, topology: services.topology) else {
            // The destination region has no nodes: the trade can never be delivered.
            _ = try await services.writer.submit(.tradeRefund(entry.tradeID))
            return true
        }
        let inbox = try TradeInbox.resolve(
            id: ClusterActorID(node: owner, incarnation: 0, path: TradeInbox.path),
            using: services.system
        )
        let outcome = try await inbox.deliver(TradeDeliveryMessage(entry.delivery))
        if outcome.accepted {
            _ = try await services.store.markTradeDelivered(entry.tradeID)
        } else {
            logger.info("trade refused by the receiver's region; refunding", metadata: ["meridian.trade": "\(entry.tradeID)", "meridian.reason": "\(outcome.reason)"])
            _ = try await services.writer.submit(.tradeRefund(entry.tradeID))
        }
        return true
    }
}
