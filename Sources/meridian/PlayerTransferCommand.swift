import ArgumentParser
import Foundation
import MeridianCluster
import MeridianNode
import MeridianIdentity
import MeridianStorage
import MeridianTopology
import MeridianWire

extension PlayerCommand {
    /// `meridian player transfer`: moves a player's home region through the identity authority's
    /// transfer saga and waits for its end.
    struct Transfer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a player's home region (their data, ledger and history) to another region.",
            discussion: """
                The identity authority freezes the player in the current home, copies everything to \
                the new one, flips the directory (epoch + 1), then tombstones the old copy. A failure \
                before the flip rolls back (exit 1, with the reason); after it the transfer completes, \
                also across restarts. The player must be idle (not queued, not in a match).
                """
        )
        @OptionGroup var connection: AccountCommand.Connection
        @OptionGroup var token: AdminTokenOptions
        @Option(help: "The player's id (UUID).") var player: String
        @Option(help: "The region to move the player's home to.") var to: String
        @Flag(help: "Print one JSON document: {\"player_id\", \"from\", \"to\", \"epoch\", \"state\", \"duration_ms\"} (and \"failure\" when rolled back).")
        var json = false

        func validate() throws {
            guard UUID(uuidString: player) != nil else { throw ValidationError("--player must be a UUID") }
        }

        func run() async throws {
            let id = UUID(uuidString: player)!
            let started = ContinuousClock.now
            let record: TransferRecord = try await AdminGateClient.with(
                topology: connection.topology, secret: connection.secret, token: token, logging: connection.logging
            ) { client in
                let topology = client.topology
                guard topology.region(named: to) != nil else {
                    throw ValidationError("no region \(to) in \(connection.topology); regions: \(topology.regions.map(\.name).joined(separator: ", "))")
                }
                let reply = try await ClusterSystem.withCallTimeout(.seconds(310)) { try await client.gate.transfer(token: client.token, player: id, to: to) }
                switch reply.result {
                case .status(let status):
                    guard let record = TransferRecord(wire: status) else { throw ValidationError("the transfer coordinator sent a malformed status") }
                    return record
                case .refusal(let message):
                    throw ValidationError("refused: \(message)")
                case nil:
                    throw ValidationError("the transfer coordinator sent an empty reply")
                }
            }
            let elapsed = ContinuousClock.now - started
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            var output: [String: Any] = [
                "player_id": record.player.uuidString.lowercased(), "from": record.from, "to": record.to,
                "epoch": record.step == .done ? record.toEpoch.rawValue : record.fromEpoch.rawValue,
                "state": record.step.rawValue, "duration_ms": (milliseconds * 1000).rounded() / 1000,
            ]
            if let failure = record.failure { output["failure"] = failure }
            if json {
                print(AccountFormat.json(output))
            } else if record.step == .done {
                print("moved \(output["player_id"]!) from \(record.from) to \(record.to) (epoch \(record.toEpoch)) in \(String(format: "%.1f", milliseconds)) ms")
            }
            guard record.step == .done else {
                FileHandle.standardError.write(Data("transfer \(record.step.rawValue): \(record.failure ?? "not finished"); the player stays in \(record.from)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
