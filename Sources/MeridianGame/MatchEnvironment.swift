import Foundation
import Logging
import MeridianCluster
import MeridianRegion

/// What a match actor needs from its node: the system, where players' actors live, the
/// node's tick statistics, and who to tell when the match is over.
final class MatchEnvironment: Sendable {
    let system: ClusterSystem
    let directory: PlayerDirectory
    let statistics: TickStatistics
    let logger: Logger
    /// How the match retries what must arrive — each result at its player's home, each phase,
    /// result and end at a gateway — until the recipient is known gone. Default: pauses growing
    /// from 100 ms to 5 s, for up to 10 minutes; a home still unreachable then gets nothing from
    /// this match (its side applies `serverLost` when it sees this node go, or the player simply
    /// has no record of the match).
    let retry: RetryPolicy
    let released: @Sendable (_ matchID: UUID) -> Void

    init(
        system: ClusterSystem, directory: PlayerDirectory, statistics: TickStatistics, logger: Logger,
        retry: RetryPolicy = RetryPolicy(limit: .seconds(600), initialPause: .milliseconds(100), maximumPause: .seconds(5)),
        released: @escaping @Sendable (UUID) -> Void
    ) {
        self.system = system
        self.directory = directory
        self.statistics = statistics
        self.logger = logger
        self.retry = retry
        self.released = released
    }
}
