import ArgumentParser
import Foundation
import MeridianAdmin

/// `meridian admin …`: admin tokens for the nodes' admin HTTP and the admin commands.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Admin tokens for the nodes' console, JSON API and admin commands.",
        subcommands: [Token.self]
    )

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new admin token and its line for the nodes' tokens file.",
            discussion: """
                The token is printed once: give it to its holder (the console's login, or
                `Authorization: Bearer <token>`). Append the line to the file every node reads
                with --admin-tokens (or $MERIDIAN_ADMIN_TOKENS_FILE); it holds the token's
                SHA-256, never the token.

                  meridian admin token --name alice --role operator
                """
        )

        @Option(help: "Who holds the token; the audit log names every action by it.")
        var name: String

        @Option(help: "viewer (reads) or operator (reads and acts).")
        var role: String

        @Flag(help: "Print one JSON document: {token, line, name, role}.")
        var json = false

        func validate() throws {
            guard AdminRole(rawValue: role) != nil else { throw ValidationError("--role must be viewer or operator") }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
                throw ValidationError("--name must be letters, digits, '-', '_', '.' or '@' (it is one field of the tokens file)")
            }
        }

        func run() throws {
            let token = AdminTokens.generate()
            let entry = AdminTokens.Entry(name: name, role: AdminRole(rawValue: role) ?? .viewer, token: token)
            if json {
                let document = ["token": token, "line": entry.line, "name": name, "role": role]
                let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("token (give it to \(name); it is not stored anywhere): \(token)")
                print("line for the tokens file:")
                print(entry.line)
            }
        }
    }
}
