import Distributed
import Foundation
import MeridianCluster
import MeridianStorage

/// A player's actor: runs only on the player's owner node in its home region and owns the
/// player's data there. Every other node and region reaches the player through it.
///
/// Created on first use by the node's activator for `/player/` (see ``RegionServices``).
/// Every write carries the epoch this actor read from the store; the store refuses it inside
/// the write's transaction when the player was frozen or moved on (transfer fencing).
public distributed actor PlayerHome {
    public typealias ActorSystem = ClusterSystem

    let playerID: UUID
    let services: RegionServices
    private var epoch: Epoch?

    init(playerID: UUID, services: RegionServices, actorSystem: ClusterSystem) {
        self.playerID = playerID
        self.services = services
        self.actorSystem = actorSystem
    }

    /// Registers the player in this (its home) region. Idempotent: an existing player is returned.
    public distributed func create(displayName: String) async throws -> PlayerView {
        if try await services.store.player(playerID) == nil {
            do {
                _ = try await services.store.createPlayer(NewPlayer(id: playerID, displayName: displayName, homeRegion: services.region))
            } catch {
                // Created concurrently is fine; anything else is the caller's error.
                if try await services.store.player(playerID) == nil { throw error }
            }
        }
        return try await view()
    }

    public distributed func view() async throws -> PlayerView {
        let profile = try await loadProfile()
        return PlayerView(profile: profile, balances: try await services.store.balances(of: playerID))
    }

    public distributed func grant(item: String, count: Int64, idempotencyKey: String) async throws -> LedgerReceiptView {
        try await append(.grant([ItemKind(item): count]), key: idempotencyKey, reason: "grant")
    }

    public distributed func consume(item: String, count: Int64, idempotencyKey: String) async throws -> LedgerReceiptView {
        try await append(.consume([ItemKind(item): count]), key: idempotencyKey, reason: "consume")
    }

    /// Gives `items` to `receiver` (home region `receiverRegion`, possibly another one).
    ///
    /// The giver's leg (debit into escrow + an outbox row) commits here in one transaction;
    /// the node's ``TradeRelay`` then delivers the receiver's leg and retries until the
    /// receiver's region credits it or refuses it (then the giver is refunded). A crash at
    /// any point leaves the outbox row, so the trade completes after restart — never half.
    /// Idempotent by `tradeID`.
    public distributed func trade(tradeID: UUID, to receiver: UUID, receiverRegion: String, items: [String: Int64]) async throws -> LedgerReceiptView {
        let epoch = try await currentEpoch()
        let request = TradeOutRequest(
            tradeID: tradeID,
            giver: playerID,
            giverEpoch: epoch,
            receiver: receiver,
            destinationRegion: receiverRegion,
            items: ItemQuantities(items),
            reason: "trade"
        )
        let receipt = try await services.writer.submit(.tradeOut(request))
        services.faults.reached(.afterTradeOut)
        services.relay.nudge()
        return LedgerReceiptView(receipt)
    }

    private func append(_ operation: LedgerOperation, key: String, reason: String) async throws -> LedgerReceiptView {
        let epoch = try await currentEpoch()
        let append = LedgerAppend(player: playerID, epoch: epoch, idempotencyKey: key, operation: operation, reason: reason)
        do {
            return LedgerReceiptView(try await services.writer.append(append))
        } catch {
            if case .staleEpoch = error.code { self.epoch = nil }  // read it again on the next call
            throw error
        }
    }

    private func currentEpoch() async throws -> Epoch {
        if let epoch { return epoch }
        return try await loadProfile().epoch
    }

    private func loadProfile() async throws -> PlayerProfile {
        guard let profile = try await services.store.player(playerID) else {
            throw StorageError(.playerNotFound, "player \(playerID) does not exist in region \(services.region)")
        }
        epoch = profile.epoch
        return profile
    }
}
