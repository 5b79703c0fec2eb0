import Distributed
import Foundation
import MeridianCluster
import MeridianStorage
import MeridianTopology

/// Receives the receiver's leg of trades on the node that hosts the receivers' data
/// (`/system/trades`). Idempotent: a delivery seen before returns its original outcome.
public distributed actor TradeInbox {
    public typealias ActorSystem = ClusterSystem

    public static let path = "/system/trades"

    let services: RegionServices

    init(services: RegionServices, actorSystem: ClusterSystem) {
        self.services = services
        self.actorSystem = actorSystem
    }

    public distributed func deliver(_ message: TradeDeliveryMessage) async throws -> DeliveryOutcome {
        do {
            _ = try await services.writer.submit(.tradeIn(message.delivery))
            return DeliveryOutcome(accepted: true, reason: "")
        } catch {
            switch error.code {
            case .tombstoned:
                // The receiver moved home: the trade follows them (idempotent there by the trade id).
                if let region = await services.movedAway(message.receiver),
                   let owner = actorSystem.playerOwner(of: message.receiver, region: region, topology: services.topology) {
                    let inbox = try TradeInbox.resolve(id: ClusterActorID(node: owner, incarnation: 0, path: Self.path), using: actorSystem)
                    return try await inbox.deliver(message)
                }
                let record = try await services.store.rejectTrade(message.tradeID, receiver: message.receiver, reason: error.message)
                return DeliveryOutcome(accepted: record.decision == .delivered, reason: record.reason)
            case .playerNotFound:
                // Refused for good: record it so a repeated delivery gets the same answer.
                let record = try await services.store.rejectTrade(message.tradeID, receiver: message.receiver, reason: error.message)
                return DeliveryOutcome(accepted: record.decision == .delivered, reason: record.reason)
            default:
                throw error  // transient (frozen, unavailable…): the relay retries
            }
        }
    }
}
