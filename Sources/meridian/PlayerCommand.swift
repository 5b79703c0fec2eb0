import MeridianCommandLine
import ArgumentParser
import Foundation
import MeridianNode
import Logging
import MeridianCluster
import MeridianIdentity
import MeridianMatchmaking
import MeridianRegion
import MeridianTopology
import MeridianWire

/// `meridian player …`: operator and test access to players, through their home actors.
struct PlayerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "player",
        abstract: "Create, inspect and change players through their home region's actors.",
        subcommands: [Create.self, Show.self, Grant.self, Trade.self, Transfer.self]
    )

    struct Target: ParsableArguments {
        @Option(help: "Topology file of the cluster.")
        var topology: String
        @Option(help: "The player's id (UUID).")
        var player: String
        @Option(help: "The player's home region (default: where the identity directory says the player lives).")
        var region: String?
        @OptionGroup var secret: SecretOptions
        @OptionGroup var logging: LoggingOptions

        /// Runs `body` against the player's home actor from a non-member client; `body` can look
        /// up where another player lives.
        func withHome<T: Sendable>(_ body: (PlayerHome, _ homeRegion: (UUID) async throws -> String) async throws -> T) async throws -> T {
            var logger = logging.bootstrap()
            logger.logLevel = .warning
            guard let id = UUID(uuidString: player) else { throw ValidationError("--player must be a UUID") }
            let (parsed, _) = try Topology.loadOrExplain(topology)
            return try await StatusClient.with(topology: parsed, secret: try secret.load(), logger: logger) { client in
                let directory = PlayerDirectory(system: client.system, topology: parsed)
                let lookUp = { (player: UUID) async throws -> String in try await Self.homeRegion(of: player, client: client, topology: parsed, logger: logger) }
                let home = if let region { region } else { try await lookUp(id) }
                return try await body(try directory.home(of: id, region: home), lookUp)
            }
        }

        /// Where the identity directory says `player` lives.
        static func homeRegion(of player: UUID, client: StatusClient, topology: Topology, logger: Logger) async throws -> String {
            let authority = AuthorityClient(system: client.system, topology: topology, timeout: .seconds(10), logger: logger)
            let lookup = try await authority.call { try await $0.lookup(player: player) }
            guard lookup.found else {
                throw ValidationError("the identity directory has no player \(player.uuidString.lowercased()); give --region for a player without an account")
            }
            return lookup.entry.homeRegion
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a player in its home region (idempotent).")
        @OptionGroup var target: Target
        @Option(help: "Display name.") var name: String
        func run() async throws {
            let view = try await target.withHome { home, _ in try await home.create(displayName: name) }
            print(PlayerFormat.describe(view))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a player's profile and balances.")
        @OptionGroup var target: Target
        @Flag(help: "Print JSON.") var json = false
        func run() async throws {
            let (view, session, matches) = try await target.withHome { home, _ in
                (try await home.view(), try await home.currentSession(), try await home.recentMatches(limit: 20))
            }
            if json {
                print(PlayerFormat.json(view, session: session, matches: matches))
            } else {
                print(PlayerFormat.describe(view))
                print("session: \(session.summary)")
                for match in matches {
                    print("match \(match.matchID.uuidString.lowercased()) \(match.outcome) xp=\(match.xp)")
                }
            }
        }
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Grant items (idempotent by --key; an operator's action).")
        @OptionGroup var target: Target
        @OptionGroup var token: AdminTokenOptions
        @Option(help: "Item kind.") var item: String
        @Option(help: "How many.") var count: Int64
        @Option(help: "Idempotency key; replaying it returns the original result.") var key: String
        func run() async throws {
            guard let id = UUID(uuidString: target.player) else { throw ValidationError("--player must be a UUID") }
            let receipt = try await AdminGateClient.with(
                topology: target.topology, secret: target.secret, token: token, logging: target.logging, preferring: target.region
            ) { client in
                try await client.gate.grant(token: client.token, player: id, region: target.region, item: item, count: count, idempotencyKey: key)
            }
            print("sequence \(receipt.sequence)\(receipt.replayed ? " (replayed)" : ""): \(receipt.balancesAfter)")
        }
    }

    struct Trade: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give items to another player, in any region (idempotent by --trade-id).")
        @OptionGroup var target: Target
        @Option(help: "Receiver's id.") var to: String
        @Option(help: "Receiver's home region (default: the identity directory's answer).") var toRegion: String?
        @Option(help: "Item kind.") var item: String
        @Option(help: "How many.") var count: Int64
        @Option(help: "Trade id (UUID); default: a new one.") var tradeID: String?
        func run() async throws {
            guard let receiver = UUID(uuidString: to) else { throw ValidationError("--to must be a UUID") }
            let id = tradeID.flatMap(UUID.init(uuidString:)) ?? UUID()
            let receipt = try await target.withHome { home, homeRegion in
                let region = if let toRegion { toRegion } else { try await homeRegion(receiver) }
                return try await home.trade(tradeID: id, to: receiver, receiverRegion: region, items: [item: count])
            }
            print("trade \(id): giver's leg committed at sequence \(receipt.sequence); balances \(receipt.balancesAfter)")
        }
    }
}

enum PlayerFormat {
    static func describe(_ view: PlayerView) -> String {
        let balances = view.balances.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "\(view.id) \(view.displayName) home=\(view.homeRegion) epoch=\(view.epoch) state=\(view.state) level=\(view.level) xp=\(view.xp) rating=\(Int(view.skill.rating.rounded()))±\(Int(view.skill.deviation.rounded())) seq=\(view.ledgerSequence) balances: \(balances.isEmpty ? "-" : balances)"
    }

    static func json(_ view: PlayerView, session: PlayerSession? = nil, matches: [MatchHistoryEntry] = [], extra: [String: Any] = [:]) -> String {
        var object: [String: Any] = extra.merging([
            "id": view.id.uuidString, "display_name": view.displayName, "home_region": view.homeRegion,
            "epoch": view.epoch, "state": view.state, "xp": view.xp, "level": view.level,
            "ledger_sequence": view.ledgerSequence, "balances": view.balances,
            "rating": view.skill.rating, "rating_deviation": view.skill.deviation,
        ]) { _, new in new }
        if let session {
            var sessionObject: [String: Any] = ["summary": session.summary]
            switch session {
            case .idle: sessionObject["state"] = "idle"
            case .queued(let ticket, let region):
                sessionObject["state"] = "queued"
                sessionObject["ticket"] = ticket.id.uuidString.lowercased()
                sessionObject["region"] = region
            case .inMatch(let match):
                sessionObject["state"] = "in_match"
                sessionObject["match"] = match.matchID.uuidString.lowercased()
                sessionObject["node"] = match.node
                sessionObject["region"] = match.region
            }
            object["session"] = sessionObject
            object["matches"] = matches.map { ["match": $0.matchID.uuidString.lowercased(), "outcome": $0.outcome, "xp": $0.xp] as [String: Any] }
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
