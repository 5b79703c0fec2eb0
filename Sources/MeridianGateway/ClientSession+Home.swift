import Distributed
import Foundation
import Logging
import MeridianCatalog
import MeridianClock
import MeridianCluster
import MeridianGame
import MeridianIdentity
import MeridianMatchmaking
import MeridianRegion
import MeridianSimulation
import MeridianStorage
import MeridianTopology
import MeridianWire
import Synchronization

/// Following the player's home when it moves (its own request or an operator's transfer).
extension ClientSession {
    /// The directory says the player's home moved (a transfer, the player's own or an operator's):
    /// the connection follows it without a new login. A player in a match or a queue cannot be
    /// moved; should it be anyway, or the new home not answer, the connection closes with
    /// HOME_MOVED and the client resumes with its token.
    func homeMoved(to region: String, epoch: Int64) async {
        guard let current = homeRegion, current != region else { return }
        guard ticket == nil, match == nil, await rehome(to: region) else {
            close(GatewayError(.homeMoved, "your home region moved to \(region); resume with the same token"))
            return
        }
        outbox.send(homeChanged(0, region: region, epoch: epoch))
    }

    /// Routes this connection to the player's home in `region`: the new home tells this gateway
    /// of session changes from now on. True when done (or done already).
    func rehome(to region: String) async -> Bool {
        guard let player, let current = homeRegion else { return false }
        guard current != region else { return true }
        let home: PlayerHome
        let watched: WatchedSession
        do {
            (home, watched) = try await call { try await self.watchHome(of: player, in: region) }
        } catch {
            context.logger.info("could not follow the player's new home", metadata: ["meridian.player": "\(player)", "meridian.error": "\(error)"])
            return false
        }
        guard homeRegion == current else { return homeRegion == region }  // moved meanwhile (a concurrent re-route)
        homeRegion = region
        homeSession = watched
        context.sessionChanges.rehomed(player, session: self, to: region, homeNode: home.id.node)
        return true
    }

    /// Asks the player's actor in `region` to push the session to this gateway from now on;
    /// returns the actor and the session it answered.
    nonisolated func watchHome(of player: UUID, in region: String) async throws -> (PlayerHome, WatchedSession) {
        let home = try context.directory.home(of: player, region: region)
        return (home, try await home.watchSession(listener: context.sessionChanges.listener.id))
    }

    /// The node that held the player's actor left the membership (crashed, or declared down):
    /// whichever node serves the player now — another of its region where they share a store,
    /// the same node once it is back otherwise — is asked to push the session here, and its
    /// answer is followed. Retried for up to two minutes (a node restarting, membership settling).
    func watchHomeAgain() async {
        guard let player, let region = homeRegion else { return }
        let policy = RetryPolicy(limit: .seconds(120), initialPause: .milliseconds(200), maximumPause: .seconds(2))
        let found = try? await policy.run(retryIf: { _ in true }) { @Sendable in try await self.watchHome(of: player, in: region) }
        guard let (home, watched) = found, self.player == player, homeRegion == region else { return }
        context.sessionChanges.rehomed(player, session: self, to: region, homeNode: home.id.node)
        await sessionPushed(watched.session, version: watched.version)
    }

    func homeChanged(_ id: UInt64, region: String, epoch: Int64) -> Meridian_Client_V1_ServerMessage {
        var message = Meridian_Client_V1_ServerMessage()
        message.requestID = id
        message.homeChanged.homeRegion = region
        message.homeChanged.epoch = UInt64(max(0, epoch))
        return message
    }

    /// The player's own request to move its home (MoveHome): a transfer, then this connection follows it.
    func moveHome(_ move: Meridian_Client_V1_MoveHome, id: UInt64, player: UUID) async throws(GatewayError) {
        guard ticket == nil, match == nil else {
            throw GatewayError(.refused, "leave the queue and finish your match before moving home")
        }
        guard context.topology.region(named: move.region) != nil else { throw GatewayError(.refused, "there is no region \(move.region)") }
        guard move.region != homeRegion else { throw GatewayError(.refused, "\(move.region) is your home already") }
        let record: TransferRecord
        do { record = try await context.identity.requestTransfer(player: player, to: move.region) } catch { throw GatewayError(error) }
        guard record.step == .done else {
            throw GatewayError(.refused, "your home did not move: \(record.failure ?? "the transfer was rolled back")")
        }
        // The directory's push may have re-routed this connection already; if not, now.
        guard await rehome(to: record.to) else {
            close(GatewayError(.homeMoved, "your home region moved to \(record.to); resume with the same token"))
            return
        }
        outbox.send(homeChanged(id, region: record.to, epoch: record.toEpoch.rawValue))
    }
}
