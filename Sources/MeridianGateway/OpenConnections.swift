import NIOCore
import Synchronization

/// The connections a gateway serves: what a drain reaches, and how it learns the last has gone.
final class OpenConnections: Sendable {
    struct Entry: Sendable {
        let outbox: ClientOutbox
        let channel: any Channel
        let session: ClientSession
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    func add(_ entry: Entry) {
        state.withLock { $0.entries[ObjectIdentifier(entry.channel)] = entry }
    }

    func remove(_ channel: any Channel) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.entries[ObjectIdentifier(channel)] = nil
            guard state.entries.isEmpty else { return [] }
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    var all: [Entry] { state.withLock { Array($0.entries.values) } }

    /// Returns once no connection is open, or when the calling task is cancelled.
    func untilEmpty() async {
        let id = state.withLock { state -> UInt64 in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.entries.isEmpty || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
