import Foundation
import MeridianCluster
import MeridianWire
import SwiftProtobuf

/// A region's matchmaking queue as operators see it (``GameFront/queue(region:limit:)``): its
/// sizes and its longest-waiting tickets with the matchmaker's reason for each.
public struct MatchmakerQueueView: Sendable, Hashable {
    public struct Ticket: Sendable, Hashable {
        public var ticketID: UUID
        public var players: Int
        public var waited: Duration
        /// The rating window (± points) the ticket searches now.
        public var window: Double
        /// Why it is not matched yet, in the matchmaker's words.
        public var reason: String

        public init(ticketID: UUID, players: Int, waited: Duration, window: Double, reason: String) {
            self.ticketID = ticketID
            self.players = players
            self.waited = waited
            self.window = window
            self.reason = reason
        }
    }

    public var region: String
    public var queuedTickets: Int
    public var queuedPlayers: Int
    public var openLobbies: Int
    /// Longest-waiting first.
    public var tickets: [Ticket]

    public init(region: String, queuedTickets: Int, queuedPlayers: Int, openLobbies: Int, tickets: [Ticket]) {
        self.region = region
        self.queuedTickets = queuedTickets
        self.queuedPlayers = queuedPlayers
        self.openLobbies = openLobbies
        self.tickets = tickets
    }
}

/// Travels as `meridian.game.v1.QueueView`: tools of one version ask nodes of another.
extension MatchmakerQueueView: ProtobufRepresented {
    package var proto: Meridian_Game_V1_QueueView {
        .with {
            $0.region = region
            $0.queuedTickets = Int64(queuedTickets)
            $0.queuedPlayers = Int64(queuedPlayers)
            $0.openLobbies = Int64(openLobbies)
            $0.tickets = tickets.map { ticket in
                .with {
                    $0.ticketID = ticket.ticketID.uuidString.lowercased()
                    $0.players = Int64(ticket.players)
                    $0.waitedMs = Int64((ticket.waited / .milliseconds(1)).rounded())
                    $0.window = ticket.window
                    $0.reason = ticket.reason
                }
            }
        }
    }

    package init(proto: Meridian_Game_V1_QueueView) throws {
        self.init(
            region: proto.region,
            queuedTickets: Int(clamping: proto.queuedTickets),
            queuedPlayers: Int(clamping: proto.queuedPlayers),
            openLobbies: Int(clamping: proto.openLobbies),
            tickets: try proto.tickets.map { ticket in
                guard let id = UUID(uuidString: ticket.ticketID) else {
                    throw ClusterError(.serialization, "queue view: ticket id '\(ticket.ticketID)' is not a UUID")
                }
                return Ticket(
                    ticketID: id, players: Int(clamping: ticket.players), waited: .milliseconds(ticket.waitedMs),
                    window: ticket.window, reason: ticket.reason
                )
            }
        )
    }
}
