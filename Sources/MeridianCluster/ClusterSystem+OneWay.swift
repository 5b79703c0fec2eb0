import CoreMetrics
import Distributed
import Foundation
import MeridianTransport
import MeridianWire
import Metrics

/// How a one-way call travels when the connection to its node has too much waiting to be sent
/// (``MeridianTransport/TransportConfiguration/maxPendingOutboundBytes``).
public enum OneWayDelivery: Sendable, Hashable {
    /// Dropped without an error (counted in `meridian_one_way_dropped_total`): for streams
    /// whose next message supersedes this one (a match's frames, a client's inputs).
    case droppable
    /// Refused with ``ClusterError/Code/overloaded``; once accepted, never dropped by this node.
    case reliable
}

extension ClusterSystem {
    /// Runs `operation` with every remote call it makes to a distributed function returning
    /// nothing sent **one way**: queued on the connection to the actor's node and returned from
    /// at once, with no reply, no deadline and no pending-call entry.
    ///
    /// One-way calls from one task to one actor arrive in the order they were sent (the
    /// connection is ordered and the receiving node runs each actor's one-way calls one after
    /// another). What the caller learns: a known-down node (``ClusterError/Code/nodeDown``) and,
    /// for ``OneWayDelivery/reliable`` calls, a full outbound budget
    /// (``ClusterError/Code/overloaded``). Whether the function ran, or threw, it never learns:
    /// use one-way calls for streams, not for what must be acknowledged.
    ///
    /// ```swift
    /// try await ClusterSystem.oneWay(.droppable) { try await subscriber.deliver(frame) }
    /// ```
    /// A call that returns a value fails with ``ClusterError/Code/serialization`` inside `operation`.
    public static func oneWay<T>(_ delivery: OneWayDelivery = .reliable, _ operation: () async throws -> T) async rethrows -> T {
        try await $oneWayDelivery.withValue(delivery, operation: operation)
    }

    /// The outbound budget of the live connection to `node` (tests fill it to see what a full
    /// one does).
    package func outboundBudget(to node: String) -> OutboundBudget? {
        session(for: node)?.connection.budget
    }

    func sendOneWay(_ id: ClusterActorID, target: RemoteCallTarget, invocation: inout ClusterInvocationEncoder, delivery: OneWayDelivery) throws {
        var call = Meridian_Cluster_V1_Call(to: id, invocation: invocation)
        call.oneWay = true
        let route = try route(to: id)
        do {
            try send(&call, arguments: invocation.writer.bytes, target: target.identifier, to: id.node, route: route)
        } catch let error as TransportError {
            if error.code == .overloaded, delivery == .droppable {
                oneWayMetrics.droppedOnSend.increment()
                return
            }
            throw ClusterError(transport: error, node: id.node)
        } catch {
            throw ClusterError(.serialization, "cannot encode the call: \(error)")
        }
    }
}

/// One-way call metrics of one actor system.
struct OneWayMetrics: Sendable {
    /// `meridian_one_way_dropped_total{side="send"}`: droppable calls this node did not send
    /// (the connection's outbound budget was full).
    let droppedOnSend = Counter(label: "meridian_one_way_dropped_total", dimensions: [("side", "send")])
    /// `meridian_one_way_dropped_total{side="receive"}`: calls this node received for an actor
    /// that already had ``PeerSession/maxQueuedOneWayCalls`` waiting.
    let droppedOnReceive = Counter(label: "meridian_one_way_dropped_total", dimensions: [("side", "receive")])
}
