import MeridianWire

/// The gateway's answer to `hello`.
public struct Welcome: Sendable, Hashable {
    public var protocolVersion: UInt32
    /// The gateway's node name, e.g. `eu-west-1`.
    public var node: String
    /// The gateway's region, e.g. `eu-west`.
    public var region: String
    /// The longest frame the gateway accepts from this client.
    public var maxFrameBytes: Int

    package init(proto: Meridian_Client_V1_Welcome) {
        protocolVersion = proto.protocolVersion
        node = proto.node
        region = proto.region
        maxFrameBytes = Int(proto.maxFrameBytes)
    }
}

/// Where the player's session stands, as the gateway reports it at login.
public struct SessionState: Sendable, Hashable {
    /// `idle`, `queued` or `in_match`.
    public var state: String
    public var matchID: String?
    public var region: String?

    package init(proto: Meridian_Client_V1_SessionState) {
        state = proto.state
        matchID = proto.matchID.isEmpty ? nil : proto.matchID
        region = proto.region.isEmpty ? nil : proto.region
    }
}

/// A successful login.
public struct LoginResult: Sendable, Hashable {
    /// The signed access token; ``GameClient/reconnect(host:port:region:)`` resumes with it.
    /// Never log it.
    public var token: String
    public var playerID: String
    /// Where the player's data lives: the identity layer's word.
    public var homeRegion: String
    public var displayName: String
    /// When the access token expires (then refresh).
    public var expiresAtUnix: UInt64
    /// The refresh token (empty after a resume: keep the one you have). Never log it.
    public var refreshToken: String
    public var refreshExpiresAtUnix: UInt64
    /// This login created the account.
    public var created: Bool
    public var session: SessionState?

    package init(proto: Meridian_Client_V1_LoginResult) {
        token = proto.token
        playerID = proto.playerID
        homeRegion = proto.homeRegion
        displayName = proto.displayName
        expiresAtUnix = proto.expiresAtUnix
        refreshToken = proto.refreshToken
        refreshExpiresAtUnix = proto.refreshExpiresAtUnix
        created = proto.created
        session = proto.hasSession ? SessionState(proto: proto.session) : nil
    }
}

/// A matchmaking ticket's state.
public struct QueueStatus: Sendable, Hashable {
    public var ticketID: String
    public var region: String
    public var queued: Bool
    /// Why the ticket still waits (free text from the matchmaker).
    public var reason: String

    package init(proto: Meridian_Client_V1_QueueStatus) {
        ticketID = proto.ticketID
        region = proto.region
        queued = proto.queued
        reason = proto.reason
    }
}

/// Another player invites this one into their party (accept with ``GameClient/acceptInvitation(from:)``).
public struct PartyInvitation: Sendable, Hashable {
    public var leaderID: String
    public var leaderName: String

    package init(proto: Meridian_Client_V1_PartyInvitation) {
        leaderID = proto.leaderID
        leaderName = proto.leaderName
    }
}

/// A match the player is in changed phase (`lobby`, `countdown`, `active`, `postgame`,
/// `closed`, or `left` after ``GameClient/leaveMatch()``).
public struct MatchEvent: Sendable, Hashable {
    public var matchID: String
    public var phase: String
    public var tickRate: Int
    public var node: String
    public var region: String

    package init(proto: Meridian_Client_V1_MatchEvent) {
        matchID = proto.matchID
        phase = proto.phase
        tickRate = Int(proto.tickRate)
        node = proto.node
        region = proto.region
    }
}

/// The player's result of a finished match.
public struct MatchResult: Sendable, Hashable {
    public var matchID: String
    /// `win`, `loss`, `draw`, `abandoned` or `server_lost`.
    public var outcome: String
    public var placement: Int
    public var xp: Int64
    public var rewards: [String: Int64]
    public var rating: Double

    package init(proto: Meridian_Client_V1_MatchResult) {
        matchID = proto.matchID
        outcome = proto.outcome
        placement = Int(proto.placement)
        xp = proto.xp
        rewards = proto.rewards
        rating = proto.rating
    }
}

/// The player's profile and inventory.
public struct Profile: Sendable, Hashable {
    public var playerID: String
    public var displayName: String
    public var homeRegion: String
    public var level: Int64
    public var xp: Int64
    public var rating: Double
    /// Item id → quantity held.
    public var balances: [String: Int64]
    public var ledgerSequence: Int64

    package init(proto: Meridian_Client_V1_Profile) {
        playerID = proto.playerID
        displayName = proto.displayName
        homeRegion = proto.homeRegion
        level = proto.level
        xp = proto.xp
        rating = proto.rating
        balances = proto.balances
        ledgerSequence = proto.ledgerSequence
    }
}

/// The catalog the gateway serves: its version and items.
public struct CatalogView: Sendable, Hashable {
    public struct Item: Sendable, Hashable {
        public var id: String
        public var name: String
        public var category: String
    }

    public var version: UInt64
    public var items: [Item]

    package init(proto: Meridian_Client_V1_CatalogView) {
        version = proto.version
        items = proto.items.map { Item(id: $0.id, name: $0.name, category: $0.category) }
    }
}

