import MeridianCommandLine
import Distributed
import ArgumentParser
import Foundation
import Logging
import MeridianCluster
import MeridianGame
import MeridianRegion
import MeridianTopology

/// `meridian match …`: queue tickets and look at running matches from outside the cluster.
struct MatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Queue players for matches and list the matches each node runs.",
        subcommands: [Queue.self, Ticket.self, List.self]
    )

    struct Cluster: ParsableArguments {
        @Option(help: "Topology file of the cluster.")
        var topology: String
        @OptionGroup var secret: SecretOptions
        @OptionGroup var logging: LoggingOptions

        /// Runs `body` with a non-member client; `body` gets the client and the topology.
        func withClient<T: Sendable>(_ body: (StatusClient) async throws -> T) async throws -> T {
            var logger = logging.bootstrap()
            logger.logLevel = .warning
            let (parsed, _) = try Topology.loadOrExplain(topology)
            let client = try await StatusClient.start(topology: parsed, secret: try secret.load(), logger: logger)
            do {
                let result = try await body(client)
                await client.system.shutdown()
                return result
            } catch {
                await client.system.shutdown()
                throw error
            }
        }
    }

    struct Queue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a solo player or a party (all matched together) in a region's matchmaker.")
        @OptionGroup var cluster: Cluster
        @Option(help: "Region whose matchmaker takes the ticket.") var region: String
        @Option(name: .customLong("player"), help: "A member as ID@HOME-REGION; repeat for a party (leader first).")
        var players: [String]
        @Option(help: "Measured RTT per region, e.g. eu-west=12,us-east=85 (default: 1 ms to --region).") var rtt: String?
        @Option(help: "Ticket id (UUID); default: a new one. Queuing the same ticket again is a no-op.") var ticket: String?

        func run() async throws {
            let members = try players.map { text -> QueueTicket.Member in
                let parts = text.split(separator: "@", maxSplits: 1).map(String.init)
                guard parts.count == 2, let id = UUID(uuidString: parts[0]) else {
                    throw ValidationError("--player must be ID@HOME-REGION, got \(text)")
                }
                return QueueTicket.Member(player: id, homeRegion: parts[1])
            }
            var rtts = [region: 1]
            if let rtt {
                rtts = [:]
                for pair in rtt.split(separator: ",") {
                    let parts = pair.split(separator: "=").map(String.init)
                    guard parts.count == 2, let ms = Int(parts[1]) else { throw ValidationError("--rtt must be region=ms,…") }
                    rtts[parts[0]] = ms
                }
            }
            let id = ticket.flatMap(UUID.init(uuidString:)) ?? UUID()
            let queueTicket = QueueTicket(id: id, members: members, rttMilliseconds: rtts)
            let status = try await cluster.withClient { client in
                try await MatchCommand.front(in: region, client: client).queue(queueTicket, region: region)
            }
            print("ticket \(id.uuidString.lowercased()) queued in \(region): \(status)")
        }
    }

    struct Ticket: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Say why a ticket is still waiting.")
        @OptionGroup var cluster: Cluster
        @Option(help: "Region the ticket is queued in.") var region: String
        @Argument(help: "Ticket id.") var id: String

        func run() async throws {
            guard let ticketID = UUID(uuidString: id) else { throw ValidationError("the ticket id must be a UUID") }
            let status = try await cluster.withClient { client in
                try await MatchCommand.front(in: region, client: client).ticketStatus(ticketID: ticketID, region: region)
            }
            print(status)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the matches every node runs.")
        @OptionGroup var cluster: Cluster
        @Flag(help: "One JSON object per match, one per line.") var json = false

        func run() async throws {
            let rows = try await cluster.withClient { client in
                var rows: [(String, MatchStatusView)] = []
                for node in client.topology.nodes {
                    let front = try GameFront.resolve(id: ClusterActorID(node: node.id, incarnation: 0, path: GameFront.path), using: client.system)
                    guard let matches = try? await ClusterSystem.withCallTimeout(.seconds(3), operation: { try await front.localMatches() }) else { continue }
                    rows += matches.map { (node.id, $0) }
                }
                return rows
            }
            for (node, match) in rows {
                if json {
                    print(#"{"node":"\#(node)","match":"\#(match.matchID.uuidString.lowercased())","phase":"\#(match.phase)","players":\#(match.players),"alive":\#(match.alive),"tick":\#(match.tick)}"#)
                } else {
                    print("\(node)  \(match.matchID.uuidString.lowercased())  \(match.phase)  players=\(match.players) alive=\(match.alive) tick=\(match.tick)")
                }
            }
        }
    }

    /// The game front of the first node of `region` that answers (any node forwards to the matchmaker).
    static func front(in region: String, client: StatusClient) async throws -> GameFront {
        let nodes = client.topology.nodes(in: region).map(\.id) + client.topology.nodes.map(\.id)
        for node in nodes {
            guard await client.members(of: node, timeout: .seconds(2)) != nil else { continue }
            return try GameFront.resolve(id: ClusterActorID(node: node, incarnation: 0, path: GameFront.path), using: client.system)
        }
        throw ClusterError(.nodeUnreachable, "no node of the cluster answered")
    }
}
