import ArgumentParser
import Crypto
import Foundation
import MeridianClient
import MeridianTopology

/// How a load-test bot logs in.
///
/// - `device`: a guest account per bot (device id `meridian-bot-<index>`, its secret derived
///   from the index, so a rerun logs the same accounts in) — what a real game's first launch
///   does, and the only way into a cluster without `dev_login`;
/// - `dev`: `DevLogin` as the bot's fixed player id (``LoadtestBot/playerID(_:)``); only where
///   the topology says `dev_login: true`.
enum LoadtestLogin: String, ExpressibleByArgument, CaseIterable, Sendable {
    case dev, device

    /// `chosen`, else what `topology` allows (dev where it may, device elsewhere).
    static func resolve(_ chosen: LoadtestLogin?, topology: Topology) throws -> LoadtestLogin {
        if chosen == .dev, !topology.devLogin {
            throw ValidationError("--login dev needs `dev_login: true` in the topology; use --login device")
        }
        return chosen ?? (topology.devLogin ? .dev : .device)
    }

    static func deviceID(_ index: Int) -> String { "meridian-bot-\(index)" }

    /// Bot `index`'s device secret. Derived, not random, so a rerun logs the same accounts in;
    /// anyone who knows the index can log in as the bot — these are test accounts.
    static func deviceSecret(_ index: Int) -> [UInt8] {
        Array(SHA256.hash(data: Data("meridian-loadtest-device-\(index)".utf8)))
    }

    /// Logs `client` in as bot `index`.
    func logIn(_ client: GameClient, index: Int) async throws -> LoginResult {
        switch self {
        case .dev:
            try await client.devLogin(playerID: LoadtestBot.playerID(index).uuidString, displayName: "bot-\(index)")
        case .device:
            try await client.deviceLogin(deviceID: Self.deviceID(index), secret: Self.deviceSecret(index), displayName: "bot-\(index)")
        }
    }
}
