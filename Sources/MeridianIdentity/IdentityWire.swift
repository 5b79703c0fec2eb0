import Distributed
import Foundation
import Logging
import MeridianClock
import MeridianCluster
import MeridianMembership
import MeridianStorage
import MeridianTopology
import MeridianWire
import SwiftProtobuf

extension Meridian_Identity_V1_KeySet: WireCodable {}
extension Meridian_Identity_V1_DirectoryEntry: WireCodable {}
extension Meridian_Identity_V1_DirectoryChanges: WireCodable {}
extension Meridian_Identity_V1_LinkRequest: WireCodable {}
extension Meridian_Identity_V1_UnlinkRequest: WireCodable {}
extension Meridian_Identity_V1_DirectoryLookup: WireCodable {}
extension Meridian_Identity_V1_SessionsRevoked: WireCodable {}
extension Meridian_Identity_V1_LoginRequest: WireCodable {}
extension Meridian_Identity_V1_RefreshRequest: WireCodable {}
extension Meridian_Identity_V1_LoginReply: WireCodable {}
extension Meridian_Identity_V1_MethodsReply: WireCodable {}
extension Meridian_Identity_V1_AdminCreateAccount: WireCodable {}
extension Meridian_Identity_V1_AccountDetails: WireCodable {}

/// A player's directory entry as every node caches it: where the player's data lives.
public struct DirectoryEntry: Sendable, Hashable {
    public var player: UUID
    public var displayName: String
    public var homeRegion: String
    public var epoch: Int64
    public var state: AccountState
    /// The authority's directory version of this entry's last change.
    public var version: Int64

    public init(player: UUID, displayName: String, homeRegion: String, epoch: Int64, state: AccountState, version: Int64) {
        self.player = player
        self.displayName = displayName
        self.homeRegion = homeRegion
        self.epoch = epoch
        self.state = state
        self.version = version
    }

    init(_ account: AccountRecord) {
        self.init(
            player: account.id, displayName: account.displayName, homeRegion: account.homeRegion,
            epoch: account.epoch.rawValue, state: account.state, version: account.directoryVersion
        )
    }

    package var proto: Meridian_Identity_V1_DirectoryEntry {
        var proto = Meridian_Identity_V1_DirectoryEntry()
        proto.player = player.wire
        proto.displayName = displayName
        proto.homeRegion = homeRegion
        proto.epoch = UInt64(max(0, epoch))
        proto.state = state == .banned ? .banned : .active
        proto.version = version
        return proto
    }

    /// An entry as the authority sent it.
    package init(wire proto: Meridian_Identity_V1_DirectoryEntry) throws {
        try self.init(proto: proto)
    }

    init(proto: Meridian_Identity_V1_DirectoryEntry) throws {
        self.init(
            player: try UUID(wire: proto.player, "directory entry player"), displayName: proto.displayName,
            homeRegion: proto.homeRegion, epoch: Int64(clamping: proto.epoch),
            state: proto.state == .banned ? .banned : .active, version: proto.version
        )
    }
}

/// A successful login or refresh: the credentials to hand to the client.
public struct LoginGrant: Sendable, Hashable {
    public var accessToken: String
    public var accessExpiresAt: UInt64
    public var refreshToken: String
    public var refreshExpiresAt: UInt64
    public var account: DirectoryEntry
    /// The login created the account.
    public var created: Bool
    /// The login (refresh-token family) these tokens belong to.
    public var session: UUID

    init(proto: Meridian_Identity_V1_LoginGrant) throws {
        session = try UUID(wire: proto.session, "grant session")
        accessToken = proto.accessToken
        accessExpiresAt = proto.accessExpiresAtUnix
        refreshToken = proto.refreshToken
        refreshExpiresAt = proto.refreshExpiresAtUnix
        account = try DirectoryEntry(proto: proto.account)
        created = proto.created
    }
}

/// Why a login, a refresh or an account operation was refused. The messages are safe to show a
/// client: they never say whether a username exists, and never echo a credential.
public struct IdentityRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case invalidCredentials, locked, banned, alreadyExists, invalidRequest, devLoginDisabled, refreshInvalid, unavailable
    }

    public var code: Code
    public var message: String
    /// For ``Code/locked``: when to try again.
    public var retryAfter: Duration?

    public init(_ code: Code, _ message: String, retryAfter: Duration? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(code.rawValue): \(message)" }

    static let invalidCredentials = IdentityRefusal(.invalidCredentials, "the username or password is wrong")

    var proto: Meridian_Identity_V1_LoginRefusal {
        var proto = Meridian_Identity_V1_LoginRefusal()
        proto.code = switch code {
        case .invalidCredentials: .invalidCredentials
        case .locked: .locked
        case .banned: .banned
        case .alreadyExists: .alreadyExists
        case .invalidRequest: .invalidRequest
        case .devLoginDisabled: .devLoginDisabled
        case .refreshInvalid: .refreshInvalid
        case .unavailable: .unavailable
        }
        proto.message = message
        if let retryAfter { proto.retryAfterMs = UInt64(max(0, retryAfter / .milliseconds(1))) }
        return proto
    }

    init(proto: Meridian_Identity_V1_LoginRefusal) {
        let code: Code = switch proto.code {
        case .invalidCredentials: .invalidCredentials
        case .locked: .locked
        case .banned: .banned
        case .alreadyExists: .alreadyExists
        case .invalidRequest: .invalidRequest
        case .devLoginDisabled: .devLoginDisabled
        case .refreshInvalid: .refreshInvalid
        case .unavailable, .unknown, .UNRECOGNIZED: .unavailable
        }
        self.init(code, proto.message, retryAfter: proto.retryAfterMs == 0 ? nil : .milliseconds(Int64(clamping: proto.retryAfterMs)))
    }
}

extension Meridian_Identity_V1_LoginReply {
    init(refusal: IdentityRefusal) {
        self.init()
        self.refusal = refusal.proto
    }

    /// The grant, or the refusal thrown.
    func grant() throws(IdentityRefusal) -> LoginGrant {
        switch outcome {
        case .grant(let grant):
            do { return try LoginGrant(proto: grant) } catch {
                throw IdentityRefusal(.unavailable, "the identity authority sent a malformed grant; retry")
            }
        case .refusal(let refusal):
            throw IdentityRefusal(proto: refusal)
        case nil:
            throw IdentityRefusal(.unavailable, "the identity authority sent an empty reply; retry")
        }
    }
}

extension Meridian_Identity_V1_MethodsReply {
    init(refusal: IdentityRefusal) {
        self.init()
        self.refusal = refusal.proto
    }

    /// The account's methods, or the refusal thrown.
    func details() throws(IdentityRefusal) -> Meridian_Identity_V1_AccountDetails {
        switch outcome {
        case .details(let details): return details
        case .refusal(let refusal): throw IdentityRefusal(proto: refusal)
        case nil: throw IdentityRefusal(.unavailable, "the identity authority sent an empty reply; retry")
        }
    }
}
