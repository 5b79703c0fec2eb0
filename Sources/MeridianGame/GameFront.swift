import Distributed
import Foundation
import MeridianCluster
import MeridianRegion

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

    private func services() throws -> GameServices {
        guard let game = game.value else { throw ClusterError(.actorNotFound, "the game layer of \(actorSystem.nodeID) is shutting down") }
        return game
    }
}
