import Logging

/// Drives trades from the giver's outbox to completion: trade-in at the receiver's store, then the
/// delivery acknowledgement at the giver's; or, when the receiver can never take it (unknown or moved
/// away), a rejection recorded at the receiver's store and a refund at the giver's.
///
/// Every step is idempotent and the stores are the only state, so re-running after a crash at any
/// point — or running two coordinators at once — settles each trade exactly once. The receiver's
/// store records the one decision (delivered or rejected) that both paths respect.
public struct TradeCoordinator: Sendable {
    /// What ``step(_:giverStore:receiverStore:)`` did.
    public enum Progress: Hashable, Sendable {
        /// Performed one step; call again.
        case performed(TradeAction)
        /// The trade is settled.
        case finished(TradeStatus)
        /// A store refused for now (a player is frozen mid-transfer); retry later.
        case deferred(reason: String)
    }

    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Performs the next step of the trade `id`, whose outbox row lives in `giverStore`.
    public func step(_ id: TradeID, giverStore: any RegionStore, receiverStore: any RegionStore) async throws(StorageError) -> Progress {
        guard let entry = try await giverStore.tradeOutboxEntry(id) else {
            throw StorageError(.tradeNotFound, "trade \(id) has no outbox row in \(giverStore.location)")
        }
        let action = TradeSettlement.next(outbox: entry, inbox: try await receiverStore.tradeInboxRecord(id))
        var logger = self.logger
        logger[metadataKey: "meridian.trade"] = "\(id)"
        logger.trace("trade step", metadata: ["meridian.trade.action": "\(action)"])
        do throws(StorageError) {
            switch action {
            case .finished(let status):
                return .finished(status)
            case .deliver:
                do throws(StorageError) {
                    _ = try await receiverStore.tradeIn(entry.delivery)
                } catch where TradeSettlement.receiverCannotTake(error) {
                    // The failed trade-in wrote nothing; record the rejection (unless a decision won meanwhile).
                    let decision = try await receiverStore.rejectTrade(id, receiver: entry.receiver, reason: error.message)
                    logger.debug("trade rejected by the receiver's store", metadata: ["meridian.trade.decision": "\(decision.decision.rawValue)"])
                }
            case .acknowledgeDelivery:
                _ = try await giverStore.markTradeDelivered(id)
            case .refund:
                do throws(StorageError) {
                    _ = try await giverStore.refundTrade(id)
                } catch where error.code == .tradeSettled {
                    // Settled by someone else meanwhile; the next step reads what happened.
                }
            }
            return .performed(action)
        } catch where error.isTransient && error.code == .frozen {
            return .deferred(reason: error.message)
        }
    }

    /// Runs steps until the trade is settled or deferred.
    public func settle(_ id: TradeID, giverStore: any RegionStore, receiverStore: any RegionStore) async throws(StorageError) -> Progress {
        // A trade needs at most three steps; the bound only guards against a store that lies.
        for _ in 0..<8 {
            let progress = try await step(id, giverStore: giverStore, receiverStore: receiverStore)
            if case .performed = progress { continue }
            return progress
        }
        throw StorageError(.backend, "trade \(id) did not settle in 8 steps; check both stores with `meridian ledger audit`")
    }

    /// Settles up to `limit` pending trades of `giverStore`. `receiverStore` maps a trade's destination
    /// region to its store (nil: the trade stays pending and is reported as deferred).
    public func drain(
        giverStore: any RegionStore, limit: Int = 100, receiverStore: (String) -> (any RegionStore)?
    ) async throws(StorageError) -> [TradeID: Result<Progress, StorageError>] {
        var results: [TradeID: Result<Progress, StorageError>] = [:]
        for entry in try await giverStore.pendingTrades(limit: limit) {
            guard let receiver = receiverStore(entry.destinationRegion) else {
                results[entry.tradeID] = .success(.deferred(reason: "no store for region \(entry.destinationRegion)"))
                continue
            }
            do throws(StorageError) {
                results[entry.tradeID] = .success(try await settle(entry.tradeID, giverStore: giverStore, receiverStore: receiver))
            } catch {
                logger.warning("trade did not settle", metadata: ["meridian.trade": "\(entry.tradeID)", "meridian.error": "\(error.codeName)"])
                results[entry.tradeID] = .failure(error)
            }
        }
        return results
    }
}
