import Foundation

/// What the admin API and console show, gathered by the node that serves them: one protocol so
/// the HTTP layer does not know how a cluster is asked (`MeridianNode` implements it over the
/// node's parts).
public protocol AdminQueries: Sendable {
    /// Whether the node should get traffic: nil when ready, else why not.
    func notReadyReason() -> String?
    /// Every member with its state and, for those that answer, its figures.
    func cluster() async throws -> ClusterOverview
    /// The matches of every node that answers.
    func matches() async throws -> [MatchOverview]
    /// Every region's queue with why its longest-waiting tickets are not matched.
    func queues() async throws -> [QueueOverview]
    /// One player: nil when the identity directory does not know the id.
    func player(_ id: UUID) async throws -> PlayerOverview?
}

public struct ClusterOverview: Sendable, Codable, Hashable {
    public struct Node: Sendable, Codable, Hashable {
        public var node: String
        public var region: String
        /// joining, up, suspect, down or removed (as the serving node sees it).
        public var state: String
        public var incarnation: UInt64
        /// Figures the node reported; nil when it did not answer in time.
        public var figures: NodeFigures?

        public init(node: String, region: String, state: String, incarnation: UInt64, figures: NodeFigures?) {
            self.node = node
            self.region = region
            self.state = state
            self.incarnation = incarnation
            self.figures = figures
        }
    }

    public var cluster: String
    /// The node that answered.
    public var servedBy: String
    public var nodes: [Node]

    public init(cluster: String, servedBy: String, nodes: [Node]) {
        self.cluster = cluster
        self.servedBy = servedBy
        self.nodes = nodes
    }
}

public struct NodeFigures: Sendable, Codable, Hashable {
    public var topologyVersion: Int
    public var catalogVersion: UInt64
    public var onlineClients: Int
    public var matchesByPhase: [String: Int]
    public var tickP99Microseconds: Double
    public var queuedPlayers: Int
    public var residentBytes: Int
    public var localActors: Int

    public init(
        topologyVersion: Int, catalogVersion: UInt64, onlineClients: Int, matchesByPhase: [String: Int], tickP99Microseconds: Double,
        queuedPlayers: Int, residentBytes: Int, localActors: Int
    ) {
        self.topologyVersion = topologyVersion
        self.catalogVersion = catalogVersion
        self.onlineClients = onlineClients
        self.matchesByPhase = matchesByPhase
        self.tickP99Microseconds = tickP99Microseconds
        self.queuedPlayers = queuedPlayers
        self.residentBytes = residentBytes
        self.localActors = localActors
    }
}

public struct MatchOverview: Sendable, Codable, Hashable {
    public var matchID: String
    public var node: String
    public var region: String
    public var phase: String
    public var players: Int
    public var connected: Int
    public var alive: Int
    public var tick: UInt32
    public var outcome: String?

    public init(matchID: String, node: String, region: String, phase: String, players: Int, connected: Int, alive: Int, tick: UInt32, outcome: String?) {
        self.matchID = matchID
        self.node = node
        self.region = region
        self.phase = phase
        self.players = players
        self.connected = connected
        self.alive = alive
        self.tick = tick
        self.outcome = outcome
    }
}

public struct QueueOverview: Sendable, Codable, Hashable {
    public struct Ticket: Sendable, Codable, Hashable {
        public var ticketID: String
        public var players: Int
        public var waitedMs: Int64
        public var window: Double
        public var reason: String

        public init(ticketID: String, players: Int, waitedMs: Int64, window: Double, reason: String) {
            self.ticketID = ticketID
            self.players = players
            self.waitedMs = waitedMs
            self.window = window
            self.reason = reason
        }
    }

    public var region: String
    /// Why the queue could not be read (its matchmaker unreachable); the counts are 0 then.
    public var error: String?
    public var queuedTickets: Int
    public var queuedPlayers: Int
    public var openLobbies: Int
    public var tickets: [Ticket]

    public init(region: String, error: String?, queuedTickets: Int, queuedPlayers: Int, openLobbies: Int, tickets: [Ticket]) {
        self.region = region
        self.error = error
        self.queuedTickets = queuedTickets
        self.queuedPlayers = queuedPlayers
        self.openLobbies = openLobbies
        self.tickets = tickets
    }
}

public struct PlayerOverview: Sendable, Codable, Hashable {
    public struct Match: Sendable, Codable, Hashable {
        public var matchID: String
        public var outcome: String
        public var xp: Int64

        public init(matchID: String, outcome: String, xp: Int64) {
            self.matchID = matchID
            self.outcome = outcome
            self.xp = xp
        }
    }

    public var player: String
    public var homeRegion: String
    public var displayName: String
    public var banned: Bool
    /// The session as the player's home sees it (`idle`, `in queue …`, `in match …`, `offline`).
    public var session: String
    public var balances: [String: Int64]
    public var recentMatches: [Match]
    /// The latest home-region transfer, in words; nil when there was none.
    public var latestTransfer: String?

    public init(
        player: String, homeRegion: String, displayName: String, banned: Bool, session: String, balances: [String: Int64], recentMatches: [Match],
        latestTransfer: String?
    ) {
        self.player = player
        self.homeRegion = homeRegion
        self.displayName = displayName
        self.banned = banned
        self.session = session
        self.balances = balances
        self.recentMatches = recentMatches
        self.latestTransfer = latestTransfer
    }
}
