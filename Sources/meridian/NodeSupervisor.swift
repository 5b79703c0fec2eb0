import Foundation
import Synchronization

/// Child `meridian` processes of `meridian local`: started with their output in a log file,
/// watched, and stopped with SIGTERM (then SIGKILL once the grace period is over). A node the
/// cluster declares down rejoins by itself in its process (`meridian bootstrap
/// --when-declared-down rejoin`, the default), so nothing here restarts it.
final class NodeSupervisor: Sendable {
    let executable: String
    let logDirectory: String
    private let processes = Mutex<[String: Process]>([:])

    init(executable: String, logDirectory: String) {
        self.executable = executable
        self.logDirectory = logDirectory
    }

    func start(node: String, arguments: [String], environment: [String: String]) throws {
        let logPath = "\(logDirectory)/\(node).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        processes.withLock { $0[node] = process }
    }

    /// Node id → running (true) or exited (false).
    var states: [String: Bool] {
        processes.withLock { $0.mapValues(\.isRunning) }
    }

    func stopAll(grace: Duration) async {
        let all = processes.withLock { Array($0.values) }
        for process in all where process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + grace
        while all.contains(where: \.isRunning), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for process in all where process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
