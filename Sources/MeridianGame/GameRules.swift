import MeridianCatalog
import MeridianMatchmaking
import MeridianSimulation

/// The rules of matches and matchmaking, read from the published catalog's `config:` section
/// (keys below) so a publish changes them without a restart; every key is optional. A match
/// reads the `match_*` keys when it starts; a region's matchmaker adopts changed
/// `matchmaking_*` keys (and player counts) at its next pass, its queue carried over.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `match_tick_hz` | 30 | simulation ticks per second (60 supported) |
/// | `match_min_players` / `match_max_players` | 2 / 10 | seats needed to start / seats per match |
/// | `match_lobby_wait_s` | 2 | time a new match stays in LOBBY open to backfill |
/// | `match_countdown_s` | 3 | COUNTDOWN length |
/// | `match_time_limit_s` | 120 | ACTIVE phase limit |
/// | `match_reward_item` | `gold` | item granted as match reward |
/// | `match_reward_play` / `match_reward_win` | 10 / 100 | reward for finishing / extra for winning |
/// | `match_xp_play` / `match_xp_win` | 25 / 100 | XP for finishing / for winning |
/// | `matchmaking_initial_window` | 100 | rating window at enqueue |
/// | `matchmaking_widen_per_s` | 50 | window growth per second waited |
/// | `matchmaking_overflow_after_s` | 10 | wait before a ticket overflows to the nearest other region (0 = never) |
/// | `matchmaking_max_rtt_ms` | 150 | tickets measuring more than this to a region prefer another |
/// | `matchmaking_full_match_wait_s` | 5 | wait for a full match before smaller ones form |
public struct GameRules: Sendable, Hashable {
    public var tickRate = 30
    public var minPlayers = 2
    public var maxPlayers = 10
    public var lobbyWait: Duration = .seconds(2)
    public var countdown: Duration = .seconds(3)
    public var timeLimitSeconds = 120
    public var rewardItem = "gold"
    public var playReward: Int64 = 10
    public var winReward: Int64 = 100
    public var playXP: Int64 = 25
    public var winXP: Int64 = 100
    public var matchmaking = MatchmakingConfiguration()

    public init() {
        syncMatchmaking()
    }

    /// The rules of `config`, defaults where a key is missing or out of range.
    public init(config: GameConfig) {
        func int(_ key: String, _ range: ClosedRange<Int64>) -> Int? {
            guard let value = config.int(key), range.contains(value) else { return nil }
            return Int(value)
        }
        func seconds(_ key: String, _ range: ClosedRange<Double>) -> Duration? {
            guard let value = config.double(key), range.contains(value) else { return nil }
            return .milliseconds(Int64(value * 1000))
        }
        tickRate = int("match_tick_hz", 1...120) ?? tickRate
        minPlayers = int("match_min_players", 1...100) ?? minPlayers
        maxPlayers = max(minPlayers, int("match_max_players", 1...100) ?? maxPlayers)
        lobbyWait = seconds("match_lobby_wait_s", 0...600) ?? lobbyWait
        countdown = seconds("match_countdown_s", 0...600) ?? countdown
        timeLimitSeconds = int("match_time_limit_s", 1...36_000) ?? timeLimitSeconds
        rewardItem = config.string("match_reward_item") ?? rewardItem
        playReward = Int64(int("match_reward_play", 0...1_000_000) ?? Int(playReward))
        winReward = Int64(int("match_reward_win", 0...1_000_000) ?? Int(winReward))
        playXP = Int64(int("match_xp_play", 0...1_000_000) ?? Int(playXP))
        winXP = Int64(int("match_xp_win", 0...1_000_000) ?? Int(winXP))
        if let window = config.double("matchmaking_initial_window"), window > 0 { matchmaking.initialWindow = window }
        if let widen = config.double("matchmaking_widen_per_s"), widen >= 0 { matchmaking.widenPerSecond = widen }
        if let overflow = config.double("matchmaking_overflow_after_s"), overflow >= 0 {
            matchmaking.overflowAfter = overflow == 0 ? nil : .milliseconds(Int64(overflow * 1000))
        }
        if let rtt = int("matchmaking_max_rtt_ms", 1...10_000) { matchmaking.maxRTTMilliseconds = rtt }
        if let wait = seconds("matchmaking_full_match_wait_s", 0...600) { matchmaking.formWithFewerAfter = wait }
        syncMatchmaking()
    }

    /// The rules as the catalog a node serves now says.
    public init(catalog: LocalCatalog) {
        self.init(config: catalog.current.content.config)
    }

    private mutating func syncMatchmaking() {
        matchmaking.minPlayers = minPlayers
        matchmaking.maxPlayers = maxPlayers
    }

    /// The simulation's rules for a match of `players` seats.
    public func simulation(players: Int, seed: UInt64) -> SimulationConfiguration {
        var configuration = SimulationConfiguration(tickRate: tickRate, maxPlayers: players)
        configuration.timeLimit = timeLimitSeconds
        configuration.seed = seed
        return configuration
    }
}
