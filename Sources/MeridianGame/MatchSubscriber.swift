import Distributed
import Foundation
import MeridianCluster

/// Receives a match's frames for the players it serves (a gateway's connections, or a test).
/// Lives on the subscriber's node; the match pushes one ``MatchFrame`` per tick to it.
public distributed actor MatchSubscriber {
    public typealias ActorSystem = ClusterSystem

    private let continuation: AsyncStream<MatchFrame>.Continuation

    /// - Parameter frames: Where delivered frames go; a slow consumer loses the oldest frames
    ///   first (the next delta is rebased on the last acknowledged snapshot, so nothing breaks).
    public init(actorSystem: ClusterSystem, buffering: Int = 64, frames: @escaping @Sendable (AsyncStream<MatchFrame>) -> Void) {
        self.actorSystem = actorSystem
        let (stream, continuation) = AsyncStream.makeStream(of: MatchFrame.self, bufferingPolicy: .bufferingNewest(buffering))
        self.continuation = continuation
        frames(stream)
    }

    public distributed func deliver(_ frame: MatchFrame) {
        continuation.yield(frame)
    }

    public distributed func matchEnded(_ matchID: UUID) {
        continuation.finish()
    }
}
