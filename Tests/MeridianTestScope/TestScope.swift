import Foundation
import Synchronization
import Testing

/// Limits how many in-process clusters run at once in the whole test process.
///
/// Swift Testing runs every suite at the same time. Each cluster runs a SWIM failure detector
/// whose in-region deadlines are a few hundred milliseconds; on a 2-core machine, more than a
/// couple of clusters (each with several nodes, matches ticking at 30 Hz) starve each other's
/// event loops past those deadlines, and a live node gets declared down — a failure that has
/// nothing to do with the test. Every test that starts nodes holds a slot for its whole run.
/// `MERIDIAN_TEST_CLUSTERS` sets the number of slots (default 2).
public final class ClusterSlots: Sendable {
    public static let shared = ClusterSlots(
        count: ProcessInfo.processInfo.environment["MERIDIAN_TEST_CLUSTERS"].flatMap(Int.init).map { max(1, $0) } ?? 2
    )

    private struct State {
        var free: Int
        var waiting: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
        /// Who holds a slot, since when: named when a wait is long (a test that hangs holding
        /// its slot stalls every test behind it, and this says which).
        var holders: [UInt64: (name: String, since: ContinuousClock.Instant)] = [:]
    }

    private let state: Mutex<State>

    public init(count: Int) {
        state = Mutex(State(free: count))
    }

    /// Runs `body` holding a slot: waits for one first (in arrival order), gives it back after.
    /// A wait longer than a minute prints, every minute, which tests hold the slots.
    public func withSlot<T>(name: String = Test.current?.name ?? "a test", _ body: () async throws -> T) async throws -> T {
        let report = Task { [self] in
            let started = ContinuousClock.now
            while (try? await Task.sleep(for: .seconds(60))) != nil {
                let line = "cluster slots: \(name) has waited \(ContinuousClock.now - started) for a slot; held by \(holders())\n"
                FileHandle.standardError.write(Data(line.utf8))
            }
        }
        do {
            try await acquire()
            report.cancel()
        } catch {
            report.cancel()
            throw error
        }
        let holder = state.withLock { state -> UInt64 in
            defer { state.nextID += 1 }
            state.holders[state.nextID] = (name, .now)
            return state.nextID
        }
        defer {
            state.withLock { $0.holders[holder] = nil }
            release()
        }
        return try await body()
    }

    /// "name (for 12 s), …": the tests holding a slot now.
    private func holders() -> String {
        let now = ContinuousClock.now
        return state.withLock { $0.holders.values.map { "\($0.name) (for \(now - $0.since))" } }.joined(separator: ", ")
    }

    private func acquire() async throws {
        let id = state.withLock { state -> UInt64 in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let granted = state.withLock { state -> Bool in
                    if state.free > 0, state.waiting.isEmpty {
                        state.free -= 1
                        return true
                    }
                    state.waiting.append((id, continuation))
                    return false
                }
                if granted { continuation.resume() }
            }
        } onCancel: {
            let cancelled = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiting.remove(at: index).continuation
            }
            cancelled?.resume(throwing: CancellationError())
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard !state.waiting.isEmpty else {
                state.free += 1
                return nil
            }
            return state.waiting.removeFirst().continuation
        }
        next?.resume()
    }
}

/// Runs `body` with what `make` returns and awaits `teardown` before returning or throwing —
/// the shape of hummingbird's `app.test { … }`: nothing a test started outlives it, so it
/// cannot compete with the next test for the cores.
public func withScoped<Resource, T>(
    _ make: () async throws -> Resource,
    teardown: (Resource) async -> Void,
    _ body: (Resource) async throws -> T
) async throws -> T {
    let resource = try await make()
    do {
        let value = try await body(resource)
        await teardown(resource)
        return value
    } catch {
        await teardown(resource)
        throw error
    }
}
