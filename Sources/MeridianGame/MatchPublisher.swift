import Foundation
import MeridianCluster
import MeridianRegion
import MeridianSimulation

/// A match's streams to its subscribers (the gateways serving its players), owned by the
/// ``MatchActor`` and used only on its executor.
///
/// Per subscriber, two senders keep each kind in order without holding up the tick: frames,
/// sent one way (a slow subscriber loses the oldest — deltas rebase on the last ack — and a
/// full connection drops that frame only), and reliable events (phases, results, the end; a
/// handful per match, each retried until delivered: a lost result would leave a client waiting
/// forever). Both stop when the subscriber is gone or unsubscribes.
final class MatchPublisher {
    private struct Feed {
        var frames: AsyncStream<MatchFrame>.Continuation
        var reliable: AsyncStream<MatchFeedEvent>.Continuation
    }

    let matchID: UUID
    private let system: ClusterSystem
    /// How reliable events are retried (the match's one policy, ``MatchEnvironment/retry``).
    private let retry: RetryPolicy
    private var feeds: [ClusterActorID: Feed] = [:]
    /// Which subscriber serves each player.
    private(set) var subscriberOf: [UUID: ClusterActorID] = [:]
    private var publishedPhase: MatchPhase?

    init(matchID: UUID, system: ClusterSystem, retry: RetryPolicy) {
        self.matchID = matchID
        self.system = system
        self.retry = retry
    }

    /// `subscriber` serves `player` from now on; it hears the current phase first.
    func subscribe(player: UUID, subscriber: ClusterActorID, phase: MatchPhase, tickRate: Int) {
        subscriberOf[player] = subscriber
        if feeds[subscriber] == nil { startSenders(to: subscriber) }
        feeds[subscriber]?.reliable.yield(.phase(matchID: matchID, phase: "\(phase)", tickRate: tickRate))
    }

    /// `subscriber` serves no player of the match any more: nothing more is sent to it.
    func unsubscribe(_ subscriber: ClusterActorID) {
        subscriberOf = subscriberOf.filter { $0.value != subscriber }
        guard let feed = feeds.removeValue(forKey: subscriber) else { return }
        feed.frames.finish()
        feed.reliable.finish()
    }

    /// Tells every subscriber that the match moved to `phase`, once per phase.
    func publish(phase: MatchPhase, tickRate: Int) {
        guard publishedPhase != phase else { return }
        publishedPhase = phase
        let event = MatchFeedEvent.phase(matchID: matchID, phase: "\(phase)", tickRate: tickRate)
        for feed in feeds.values { feed.reliable.yield(event) }
    }

    /// One tick's frame to one subscriber (droppable).
    func send(_ frame: MatchFrame, to subscriber: ClusterActorID) {
        feeds[subscriber]?.frames.yield(frame)
    }

    /// Each result to the subscriber serving its player (reliable).
    func send(_ results: [MatchResultMessage]) {
        var bySubscriber: [ClusterActorID: [MatchResultMessage]] = [:]
        for result in results {
            if let subscriber = subscriberOf[result.player] { bySubscriber[subscriber, default: []].append(result) }
        }
        for (subscriber, results) in bySubscriber {
            feeds[subscriber]?.reliable.yield(.results(matchID: matchID, results))
        }
    }

    /// The match is gone: the end goes to every subscriber, and the streams finish.
    func end() {
        for feed in feeds.values {
            feed.reliable.yield(.ended(matchID: matchID))
            feed.reliable.finish()
            feed.frames.finish()
        }
    }

    private func startSenders(to subscriber: ClusterActorID) {
        feeds[subscriber] = Self.startSenders(to: subscriber, system: system, retry: retry)
    }

    private static func startSenders(to subscriber: ClusterActorID, system: ClusterSystem, retry: RetryPolicy) -> Feed {
        let framesStream = AsyncStream.makeStream(of: MatchFrame.self, bufferingPolicy: .bufferingNewest(8))
        let reliableStream = AsyncStream.makeStream(of: MatchFeedEvent.self)
        let frames = framesStream.stream
        let reliable = reliableStream.stream
        Task {
            guard let target = try? MatchSubscriber.resolve(id: subscriber, using: system) else { return }
            // One way: the stream moves at the rate of the ticks, not one frame per round trip.
            for await frame in frames {
                do {
                    try await ClusterSystem.oneWay(.droppable) { try await target.deliver(frame) }
                } catch {
                    if Self.subscriberGone(error) { break }
                }
            }
        }
        Task {
            guard let target = try? MatchSubscriber.resolve(id: subscriber, using: system) else { return }
            for await event in reliable {
                // Until delivered or the subscriber is gone. A call that timed out may have run:
                // subscribers take duplicates in their stride.
                do {
                    try await retry.run(retryIf: { !Self.subscriberGone($0) }) { try await Self.deliver(event, to: target) }
                } catch {
                    break
                }
            }
        }
        return Feed(frames: framesStream.continuation, reliable: reliableStream.continuation)
    }

    private static func deliver(_ event: MatchFeedEvent, to target: MatchSubscriber) async throws {
        switch event {
        case .phase(let matchID, let phase, let tickRate):
            try await target.phaseChanged(matchID: matchID, phase: phase, tickRate: tickRate)
        case .results(let matchID, let results):
            try await target.results(matchID: matchID, results)
        case .ended(let matchID):
            try await target.matchEnded(matchID)
        case .frame(let frame):
            try await target.deliver(frame)
        }
    }

    private static func subscriberGone(_ error: any Error) -> Bool {
        guard let error = error as? ClusterError else { return false }
        switch error.code {
        case .nodeDown, .actorNotFound, .targetNotFound, .shutdown, .cancelled: return true
        default: return false
        }
    }
}

@available(*, unavailable)
extension MatchPublisher: Sendable {}
