import Distributed
import Foundation
import MeridianCluster

/// The recipient of `meridian-bench rpc`: echoes small payloads, swallows bulk ones.
public distributed actor BenchEchoActor {
    public typealias ActorSystem = ClusterSystem

    public static let path = "/bench/echo"

    public init(actorSystem: ClusterSystem) {
        self.actorSystem = actorSystem
    }

    public distributed func echo(_ payload: Data) -> Data {
        payload
    }

    /// Takes a large message and answers with its size (the bulk stream of the
    /// "meridian-under-bulk" case).
    public distributed func absorb(_ bulk: Data) -> Int {
        bulk.count
    }
}
