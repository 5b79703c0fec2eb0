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
    /// How long a result is retried before the match gives up on that player (their home
    /// region unreachable for that long); the home side then applies `serverLost` when it
    /// sees this node go, or the player simply has no record of the match.
    let resultDeliveryBound: Duration
    let released: @Sendable (_ matchID: UUID) -> Void

    init(
        system: ClusterSystem, directory: PlayerDirectory, statistics: TickStatistics, logger: Logger,
        resultDeliveryBound: Duration = .seconds(600), released: @escaping @Sendable (UUID) -> Void
    ) {
        self.system = system
        self.directory = directory
        self.statistics = statistics
        self.logger = logger
        self.resultDeliveryBound = resultDeliveryBound
        self.released = released
    }
}
