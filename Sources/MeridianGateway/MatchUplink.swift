import Foundation
import MeridianCluster
import MeridianGame
import Synchronization

/// The inputs and acks of this gateway's players in one match, on their way to it. Connection
/// readers only record them (never wait on the cluster); one sender sends everything that
/// arrived since its last send, for every player of the match here, as one one-way
/// `clientUpdates` call — one message per match and wake-up instead of one per client, and no
/// round trip to wait for. While the sender is busy inputs coalesce (each player's newest
/// ``maximumPendingInputs`` are kept; the simulation applies a bounded number per tick anyway)
/// and only the newest ack is sent; a connection with too much waiting drops the message (the
/// next one carries newer inputs and acks).
final class MatchUplink: Sendable {
    static let maximumPendingInputs = 16

    private struct State {
        var pending: [UUID: ClientUpdate] = [:]
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false
    }

    private let state = Mutex(State())

    /// Starts sending to `match`; the sender ends with ``close()``.
    init(match: MatchActor) {
        Task { [weak self] in
            while let updates = await self?.next() {
                _ = try? await ClusterSystem.oneWay(.droppable) { try await match.clientUpdates(updates) }
            }
        }
    }

    /// Queues a client's inputs and its acknowledgement of a snapshot `ack` (either may be absent).
    func offer(player: UUID, inputs: [InputMessage] = [], ack: UInt32? = nil) {
        update(player) { update in
            update.inputs.append(contentsOf: inputs)
            if update.inputs.count > Self.maximumPendingInputs { update.inputs.removeFirst(update.inputs.count - Self.maximumPendingInputs) }
            if let ack { update.acknowledged = max(update.acknowledged ?? 0, ack) }
        }
    }

    private func update(_ player: UUID, _ change: (inout ClientUpdate) -> Void) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.closed else { return nil }
            change(&state.pending[player, default: ClientUpdate(player: player)])
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Everything pending; waits when nothing is. Nil once closed.
    private func next() async -> [ClientUpdate]? {
        while true {
            let batch = state.withLock { state -> [ClientUpdate]?? in
                if state.closed { return .some(nil) }
                guard !state.pending.isEmpty else { return nil }
                defer { state.pending.removeAll(keepingCapacity: true) }
                return .some(Array(state.pending.values))
            }
            if let batch { return batch }
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Bool in
                    if state.closed || !state.pending.isEmpty { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}
