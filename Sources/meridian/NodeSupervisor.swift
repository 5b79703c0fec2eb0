import Foundation
import MeridianNode
import Synchronization

/// Child `meridian` processes of `meridian local`: started with their output in a log file,
/// watched, started again when a node exits because the cluster declared it down (exit status
/// 75, see `MeridianNode`), and stopped with SIGTERM (then SIGKILL once the grace period
/// is over).
final class NodeSupervisor: Sendable {
    let executable: String
    let logDirectory: String
    private let processes = Mutex<[String: Process]>([:])
    private let stopping = Mutex(false)
    /// Restarts of nodes that were declared down, by node id.
    private let restarts = Mutex<[String: Int]>([:])

    init(executable: String, logDirectory: String) {
        self.executable = executable
        self.logDirectory = logDirectory
    }

    func start(node: String, arguments: [String], environment: [String: String]) throws {
        let logPath = "\(logDirectory)/\(node).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        try launch(node: node, arguments: arguments, environment: environment, logPath: logPath)
    }

    private func launch(node: String, arguments: [String], environment: [String: String], logPath: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()  // a restarted node's log follows its previous run's
        process.standardOutput = log
        process.standardError = log
        process.terminationHandler = { [weak self] ended in
            guard let self, ended.terminationReason == .exit, ended.terminationStatus == MeridianNode.declaredDownExitCode,
                  !self.stopping.withLock({ $0 })
            else { return }
            self.restarts.withLock { $0[node, default: 0] += 1 }
            // A new incarnation joins like any restarted node; a failure to launch shows as an exited node.
            try? self.launch(node: node, arguments: arguments, environment: environment, logPath: logPath)
        }
        try process.run()
        processes.withLock { $0[node] = process }
    }

    /// How many times each node was started again after the cluster declared it down.
    var restartCounts: [String: Int] { restarts.withLock { $0 } }

    /// Node id → running (true) or exited (false).
    var states: [String: Bool] {
        processes.withLock { $0.mapValues(\.isRunning) }
    }

    func stopAll(grace: Duration) async {
        stopping.withLock { $0 = true }
        let all = processes.withLock { Array($0.values) }
        for process in all where process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + grace
        while all.contains(where: \.isRunning), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for process in all where process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
