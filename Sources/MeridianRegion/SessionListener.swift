import Distributed
import Foundation
import MeridianCluster

/// Hears about a player's session on the node that serves the player's connection: the
/// player's home pushes every change as it happens (queued → in a match → idle), with the new
/// session itself, so a gateway never asks the home what the player is doing; and it says when
/// a newer connection elsewhere took the player over. Pushes of one change and the next may
/// cross on the way: each carries its ``SessionVersion``, and the listener keeps the newest.
public distributed actor SessionListener {
    public typealias ActorSystem = ClusterSystem

    public enum Event: Sendable {
        /// The session changed to this (version `version` of the home that sent it).
        case changed(PlayerSession, version: SessionVersion)
        /// Another connection (on another node) logged in as the player: close this one.
        case replaced
        /// `leader` invited the player into its party: tell the client.
        case invited(leader: UUID, leaderName: String)
    }

    private let handler: @Sendable (UUID, Event) -> Void

    /// - Parameter handler: Called with the player and what happened; must not block.
    public init(actorSystem: ClusterSystem, handler: @escaping @Sendable (UUID, Event) -> Void) {
        self.actorSystem = actorSystem
        self.handler = handler
    }

    public distributed func sessionChanged(player: UUID, session: PlayerSession, version: SessionVersion) {
        handler(player, .changed(session, version: version))
    }

    public distributed func sessionReplaced(player: UUID) {
        handler(player, .replaced)
    }

    public distributed func partyInvited(player: UUID, leader: UUID, leaderName: String) {
        handler(player, .invited(leader: leader, leaderName: String(leaderName.utf8.prefix(64)) ?? ""))
    }
}

/// Orders the session pushes of a player's home: `number` counts the changes of one home
/// instance (`instance`, random per activation of the player's actor). A push is newer than
/// another of the same instance when its number is larger; a push of another instance is the
/// newer one (the player's actor was activated again, on this node or another).
public struct SessionVersion: Sendable, Hashable {
    public var instance: UInt64
    public var number: UInt64

    public init(instance: UInt64, number: UInt64) {
        self.instance = instance
        self.number = number
    }

    /// Whether a listener that holds `self` takes `next`.
    public func isSuperseded(by next: SessionVersion) -> Bool {
        next.instance != instance || next.number > number
    }
}

/// What ``PlayerHome/watchSession(listener:)`` answers: the session now, and its version.
public struct WatchedSession: Sendable, Hashable {
    public var session: PlayerSession
    public var version: SessionVersion

    public init(session: PlayerSession, version: SessionVersion) {
        self.session = session
        self.version = version
    }
}
