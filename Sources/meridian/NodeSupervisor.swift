import Foundation
import MeridianNode
import Synchronization

/// Child `meridian` processes of `meridian local` and `meridian chaos`: started with their
/// output in a log file, watched, and stopped with SIGTERM (then SIGKILL once the grace period
/// is over). A node the cluster declares down rejoins by itself in its process (`meridian
/// bootstrap --when-declared-down rejoin`, the default), so nothing here restarts it; `meridian
/// chaos` kills, pauses and restarts nodes on purpose, and every other exit is recorded as
/// unexpected (a node that exits with ``MeridianNode/declaredDownExitCode`` is also restarted).
final class NodeSupervisor: Sendable {
    let executable: String
    let logDirectory: String

    private struct Child {
        var process: Process
        var arguments: [String]
        var environment: [String: String]
        /// Set before the supervisor itself ends the process, so its exit is not a crash.
        var ending = false
        var exited = false
        /// Resumed when the process exits.
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private struct State {
        var children: [String: Child] = [:]
        var stopping = false
        /// Exits nobody asked for, as "node: status" lines.
        var unexpectedExits: [String] = []
    }

    private let state = Mutex(State())

    init(executable: String, logDirectory: String) {
        self.executable = executable
        self.logDirectory = logDirectory
    }

    func start(node: String, arguments: [String], environment: [String: String]) throws {
        let logPath = "\(logDirectory)/\(node).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        try launch(node: node, arguments: arguments, environment: environment)
    }

    private func launch(node: String, arguments: [String], environment: [String: String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(logDirectory)/\(node).log"))
        log.seekToEndOfFile()  // a restarted node's log follows its previous run's
        process.standardOutput = log
        process.standardError = log
        process.terminationHandler = { [weak self] ended in
            var restart = false
            let waiters = self?.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                guard state.children[node]?.process === ended, var child = state.children[node] else { return [] }
                if !state.stopping, !child.ending {
                    let how = ended.terminationReason == .uncaughtSignal ? "killed by signal \(ended.terminationStatus)" : "exited with status \(ended.terminationStatus)"
                    // A node declared down whose old incarnation would not stop in time exits
                    // with EX_TEMPFAIL for its supervisor to start it again, as this one does.
                    restart = ended.terminationReason == .exit && ended.terminationStatus == MeridianNode.declaredDownExitCode
                    state.unexpectedExits.append("\(node) \(how)" + (restart ? " (declared down, and its parts did not stop in time; restarted)" : ""))
                }
                child.exited = true
                defer { child.exitWaiters = []; state.children[node] = child }
                return child.exitWaiters
            } ?? []
            for waiter in waiters { waiter.resume() }
            if restart { try? self?.restart(node) }
        }
        // Registered before it runs: its termination handler looks for it.
        let previous = state.withLock { $0.children.updateValue(Child(process: process, arguments: arguments, environment: environment), forKey: node) }
        do {
            try process.run()
        } catch {
            state.withLock { $0.children[node] = previous }
            throw error
        }
    }

    /// Node id → running (true) or exited (false).
    var states: [String: Bool] {
        state.withLock { $0.children.mapValues(\.process.isRunning) }
    }

    /// Node id → process id of the running nodes.
    var processIdentifiers: [String: Int32] {
        state.withLock { $0.children.filter { $0.value.process.isRunning }.mapValues(\.process.processIdentifier) }
    }

    /// Process exits that neither ``kill(_:)`` nor ``stopAll(grace:)`` caused.
    var unexpectedExits: [String] { state.withLock { $0.unexpectedExits } }

    /// `kill -9`: no clean-up, as a crash or an OOM kill would.
    /// Returns once the process has exited.
    func kill(_ node: String) async {
        guard let process = state.withLock({ state -> Process? in
            state.children[node]?.ending = true
            return state.children[node]?.process
        }) else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        await waitForExit(of: node)
    }

    /// Returns once the process of `node` has exited (at once when it has, or there is none).
    private func waitForExit(of node: String) async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let exited = state.withLock { state -> Bool in
                guard state.children[node]?.exited == false else { return true }
                state.children[node]?.exitWaiters.append(waiter)
                return false
            }
            if exited { waiter.resume() }
        }
    }

    /// Starts a node again that ``kill(_:)`` ended, with its first arguments.
    func restart(_ node: String) throws {
        guard let child = state.withLock({ $0.children[node] }), !child.process.isRunning else { return }
        try launch(node: node, arguments: child.arguments, environment: child.environment)
    }

    /// SIGSTOP (`paused: true`) or SIGCONT.
    func pause(_ node: String, _ paused: Bool) {
        guard let process = state.withLock({ $0.children[node]?.process }), process.isRunning else { return }
        Foundation.kill(process.processIdentifier, paused ? SIGSTOP : SIGCONT)
    }

    /// SIGTERM to every node; SIGKILL to those still running after `grace`. Returns once every
    /// node has exited.
    func stopAll(grace: Duration) async {
        let all = state.withLock { state in
            state.stopping = true
            return state.children.mapValues(\.process)
        }
        for process in all.values where process.isRunning {
            Foundation.kill(process.processIdentifier, SIGCONT)  // a paused process cannot act on SIGTERM
            process.terminate()
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for node in all.keys { await self.waitForExit(of: node) }
            }
            group.addTask {
                // Cancelled once every node has exited within the grace period.
                guard (try? await Task.sleep(for: grace)) != nil else { return }
                for process in all.values where process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
