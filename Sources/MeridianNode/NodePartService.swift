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
    let progress: PartProgress

    init(
        _ name: String, started: Started<Part>, progress: PartProgress, start: @escaping @Sendable () async throws -> Part,
        stop: @escaping @Sendable (Part) async -> Void
    ) {
        self.description = name
        self.started = started
        self.progress = progress
        self.start = start
        self.stop = stop
    }

    func run() async throws {
        let part: Part
        progress.set(description, .starting)
        do {
            part = try await cancelWhenGracefulShutdown { try await start() }
        } catch {
            progress.set(description, .done)
            started.fail(error)
            // Its turn to shut down came while it started (the start was cancelled, which a
            // store or a socket may report as its own error): nothing to stop.
            if Task.isShuttingDownGracefully { return }
            throw error
        }
        started.succeed(part)
        progress.set(description, .running)
        // Returns on this part's turn in the group's shutdown; throws when the group is
        // cancelled instead. Either way the part is released.
        try? await gracefulShutdown()
        progress.set(description, .stopping)
        await stop(part)
        progress.set(description, .done)
    }
}

/// Where each part of a node is in its life: what a stop that takes too long is waiting for
/// (a part in its `stop` step, or one still starting or running that the group has not yet
/// reached in its reverse order).
final class PartProgress: Sendable {
    enum Phase {
        case starting, running, stopping, done
    }

    /// Each part's phase, in the order the parts first reported one.
    private let phases = Mutex<[(part: String, phase: Phase)]>([])

    func set(_ part: String, _ phase: Phase) {
        phases.withLock { phases in
            if let index = phases.firstIndex(where: { $0.part == part }) {
                phases[index].phase = phase
            } else {
                phases.append((part, phase))
            }
        }
    }

    /// The parts in `phase`, in the order they first reported.
    func parts(in phase: Phase) -> [String] {
        phases.withLock { $0.filter { $0.phase == phase }.map(\.part) }
    }
}
