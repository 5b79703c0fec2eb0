import MeridianCommandLine
import ArgumentParser
import Foundation
import MeridianStorage
import MeridianNode
import Logging
import MeridianCluster
import MeridianIdentity
import MeridianTopology
import MeridianWire

/// `meridian account …` and `meridian identity …`: operators' access to the identity authority.
struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "Create, show, ban and unban player accounts at the identity authority.",
        subcommands: [Create.self, Show.self, Ban.self, Unban.self]
    )

    struct Connection: ParsableArguments {
        @Option(help: "Topology file of the cluster.") var topology: String
        @OptionGroup var secret: SecretOptions
        @OptionGroup var logging: LoggingOptions

        /// Runs `body` with a client of the authority from a non-member node.
        func withAuthority<T: Sendable>(_ body: (AuthorityClient, Topology) async throws -> T) async throws -> T {
            var logger = logging.bootstrap()
            logger.logLevel = .warning
            let (parsed, _) = try Topology.loadOrExplain(topology)
            return try await StatusClient.with(topology: parsed, secret: try secret.load(), logger: logger) { client in
                try await body(AuthorityClient(system: client.system, topology: parsed, timeout: .seconds(10), logger: logger), parsed)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a password account (its home: --region, default the identity authority's region).")
        @OptionGroup var connection: Connection
        @Option(help: "Username (3–32 of a-z 0-9 . _ -).") var username: String
        @Option(help: "File whose first line is the password (never pass passwords as arguments).") var passwordFile: String
        @Option(help: "Home region of the new account.") var region: String?
        @Option(help: "Display name (default: the username).") var name: String = ""
        @Flag(help: "Print one JSON document: {\"player_id\", \"home_region\"}.") var json = false

        func run() async throws {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8),
                  let password = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init), !password.isEmpty
            else { throw ValidationError("cannot read a password from \(passwordFile)") }
            let grant = try await connection.withAuthority { authority, topology in
                var request = Meridian_Identity_V1_AdminCreateAccount()
                request.password.username = username
                request.password.password = password
                request.password.displayName = name
                request.homeRegion = region ?? topology.identityAuthority
                let sent = request
                return try await Self.grant(authority.call { try await $0.createAccount(sent) })
            }
            let output: [String: Any] = ["player_id": grant.account.player.uuidString.lowercased(), "home_region": grant.account.homeRegion]
            print(json ? AccountFormat.json(output) : "created \(output["player_id"]!) home=\(grant.account.homeRegion)")
        }

        static func grant(_ reply: Meridian_Identity_V1_LoginReply) throws -> (account: DirectoryEntry, Void) {
            switch reply.outcome {
            case .grant(let grant): return (try DirectoryEntry(wire: grant.account), ())
            case .refusal(let refusal): throw ValidationError("refused: \(refusal.message)")
            case nil: throw ValidationError("the identity authority sent an empty reply")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an account: home region, epoch, state and login methods.")
        @OptionGroup var connection: Connection
        @Option(help: "The player's id (UUID).") var player: String?
        @Option(help: "The account's username.") var username: String?
        @Flag(help: "Print one JSON document: {\"player_id\", \"home_region\", \"epoch\", \"state\", \"methods\"}.") var json = false

        func validate() throws {
            guard (player == nil) != (username == nil) else { throw ValidationError("give exactly one of --player and --username") }
            if let player, UUID(uuidString: player) == nil { throw ValidationError("--player must be a UUID") }
        }

        func run() async throws {
            let id = player.flatMap(UUID.init(uuidString:))
            let details = try await connection.withAuthority { authority, _ in
                try await authority.call { [username] in try await $0.details(player: id, username: username) }
            }
            guard details.found else {
                FileHandle.standardError.write(Data("no such account\n".utf8))
                throw ExitCode(1)
            }
            let entry = details.entry
            let object: [String: Any] = [
                "player_id": entry.player, "home_region": entry.homeRegion, "epoch": entry.epoch,
                "state": entry.state == .banned ? "banned" : "active", "display_name": entry.displayName,
                "methods": details.methods.map { method -> [String: Any] in
                    var item: [String: Any] = ["kind": method.kind]
                    if !method.subject.isEmpty { item["username"] = method.subject }
                    return item
                },
            ]
            if json {
                print(AccountFormat.json(object))
            } else {
                let methods = details.methods.map { $0.subject.isEmpty ? $0.kind : "\($0.kind):\($0.subject)" }.joined(separator: ", ")
                print("\(entry.player) \(entry.displayName) home=\(entry.homeRegion) epoch=\(entry.epoch) state=\(object["state"]!) methods: \(methods)")
            }
        }
    }

    struct Ban: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ban an account: its refreshes are refused and its live sessions close in every region (an operator's action).")
        @OptionGroup var connection: Connection
        @OptionGroup var token: AdminTokenOptions
        @Option(help: "The player's id (UUID).") var player: String
        @Flag(help: "Print one JSON document.") var json = false
        func run() async throws { try await AccountCommand.setBanned(player, true, connection: connection, token: token, json: json) }
    }

    struct Unban: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lift a ban (an operator's action).")
        @OptionGroup var connection: Connection
        @OptionGroup var token: AdminTokenOptions
        @Option(help: "The player's id (UUID).") var player: String
        @Flag(help: "Print one JSON document.") var json = false
        func run() async throws { try await AccountCommand.setBanned(player, false, connection: connection, token: token, json: json) }
    }

    static func setBanned(_ player: String, _ banned: Bool, connection: Connection, token: AdminTokenOptions, json: Bool) async throws {
        guard let id = UUID(uuidString: player) else { throw ValidationError("--player must be a UUID") }
        let proto = try await AdminGateClient.with(topology: connection.topology, secret: connection.secret, token: token, logging: connection.logging) { client in
            try await client.gate.setBanned(token: client.token, player: id, banned: banned)
        }
        let entry = try DirectoryEntry(wire: proto)
        let object: [String: Any] = ["player_id": entry.player, "state": entry.state == .banned ? "banned" : "active"]
        print(json ? AccountFormat.json(object) : "\(entry.player) \(object["state"]!)")
    }
}

/// `meridian identity rotate-keys`: a new access-token signing key.
struct IdentityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Operate the identity layer.",
        subcommands: [RotateKeys.self]
    )

    struct RotateKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-keys",
            abstract: "Start signing access tokens with a new key; tokens of the old keys stay valid until they expire."
        )
        @OptionGroup var connection: AccountCommand.Connection
        @OptionGroup var token: AdminTokenOptions
        @Flag(help: "Print one JSON document: {\"keys\": [...], \"signing\"}.") var json = false
        func run() async throws {
            let keys = try await AdminGateClient.with(topology: connection.topology, secret: connection.secret, token: token, logging: connection.logging) { client in
                try await client.gate.rotateKeys(token: client.token)
            }
            // The key just made signs from now on: the last of the set.
            let signing = keys.last ?? ""
            if json {
                print(AccountFormat.json(["keys": keys, "signing": signing]))
            } else {
                print("signing with \(signing); keys: \(keys.joined(separator: ", "))")
            }
        }
    }
}

enum AccountFormat {
    static func json(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
