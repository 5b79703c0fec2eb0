import Foundation
import MeridianGame
import Synchronization

/// A client's inputs and acks on their way to its match: the connection's reader only records
/// them (never waits on the cluster); one sender makes one `clientUpdate` call at a time with
/// everything that arrived meanwhile. On a slow path inputs coalesce (the newest
/// ``maximumPendingInputs`` are kept; the simulation applies a bounded number per tick anyway)
/// and only the newest ack is sent.
final class ClientUplink: Sendable {
    static let maximumPendingInputs = 16

    private struct State {
        var inputs: [InputMessage] = []
        var ack: UInt32?
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false
    }

    private let state = Mutex(State())
    private let sender = Mutex<Task<Void, Never>?>(nil)

    /// Starts sending to `match` for `player`.
    init(match: MatchActor, player: UUID) {
        let task = Task { [weak self] in
            while let (inputs, ack) = await self?.next() {
                _ = try? await match.clientUpdate(player: player, inputs: inputs, acknowledged: ack)
            }
        }
        sender.withLock { $0 = task }
    }

    func offer(inputs: [InputMessage]) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.inputs.append(contentsOf: inputs)
            if state.inputs.count > Self.maximumPendingInputs { state.inputs.removeFirst(state.inputs.count - Self.maximumPendingInputs) }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func offer(ack tick: UInt32) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.ack = max(state.ack ?? 0, tick)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Everything pending; waits when nothing is. Nil once closed.
    private func next() async -> ([InputMessage], UInt32?)? {
        while true {
            let batch = state.withLock { state -> ([InputMessage], UInt32?)?? in
                if state.closed { return .some(nil) }
                guard !state.inputs.isEmpty || state.ack != nil else { return nil }
                defer {
                    state.inputs.removeAll(keepingCapacity: true)
                    state.ack = nil
                }
                return .some((state.inputs, state.ack))
            }
            if let batch { return batch }
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Bool in
                    if state.closed || !state.inputs.isEmpty || state.ack != nil { return true }
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
