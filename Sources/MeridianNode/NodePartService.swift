import ServiceLifecycle
import Synchronization

/// One part of a node (its store, actor system, game services, gateway…) as a `Service`.
///
/// `start` awaits the parts it needs (their ``Started`` values), so a part starts only once
/// its dependencies have; it publishes itself in ``started`` and runs until the service group
/// shuts it down — in the reverse of the start order — then `stop` releases it. A part whose
/// dependency failed fails too (the group then stops, in reverse, what already started); a
/// part asked to shut down before it started returns without starting.
struct NodePartService<Part: Sendable>: Service, CustomStringConvertible {
    let description: String
    let started: Started<Part>
    let start: @Sendable () async throws -> Part
    let stop: @Sendable (Part) async -> Void
    let stopping: StoppingParts

    init(
        _ name: String, started: Started<Part>, stopping: StoppingParts, start: @escaping @Sendable () async throws -> Part,
        stop: @escaping @Sendable (Part) async -> Void
    ) {
        self.description = name
        self.started = started
        self.stopping = stopping
        self.start = start
        self.stop = stop
    }

    func run() async throws {
        let part: Part
        do {
            part = try await cancelWhenGracefulShutdown { try await start() }
        } catch {
            started.fail(error)
            // Its turn to shut down came while it started (the start was cancelled, which a
            // store or a socket may report as its own error): nothing to stop.
            if Task.isShuttingDownGracefully { return }
            throw error
        }
        started.succeed(part)
        // Returns on this part's turn in the group's shutdown; throws when the group is
        // cancelled instead. Either way the part is released.
        try? await gracefulShutdown()
        stopping.begin(description)
        await stop(part)
        stopping.end(description)
    }
}

/// The parts of a node in their `stop` step now, in the order they began it: what a stop that
/// takes too long is waiting for.
final class StoppingParts: Sendable {
    private let names = Mutex<[String]>([])

    func begin(_ name: String) { names.withLock { $0.append(name) } }
    func end(_ name: String) { names.withLock { $0.removeAll { $0 == name } } }
    var current: [String] { names.withLock { $0 } }
}
