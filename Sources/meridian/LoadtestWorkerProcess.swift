import Foundation
import Synchronization

/// A `meridian loadtest worker` child process and the newest report line it printed.
final class LoadtestWorkerProcess: Sendable {
    private let process: Process
    private let latestLine = Mutex<(line: LoadtestWorkerLine, at: ContinuousClock.Instant)?>(nil)
    private let outputDone = DispatchSemaphore(value: 0)

    /// Starts a worker for bots `first ..< first + count` of `players` (see ``LoadtestCommand/Options``).
    init(
        executable: String, topology: String, players: Int, ramp: Double, duration: Double, idle: Bool, first: Int, count: Int,
        grace: Double = LoadtestCommand.Options.defaultGrace, maxAckDelayMs: Int = 40, login: LoadtestLogin, tlsCA: String? = nil, firstBot: Int = 0
    ) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "loadtest", "worker", "--topology", topology, "--players", "\(players)",
            "--ramp", "\(ramp)", "--duration", "\(duration)", "--first", "\(first)", "--count", "\(count)", "--grace", "\(grace)",
            "--max-ack-delay-ms", "\(maxAckDelayMs)", "--login", login.rawValue, "--first-bot", "\(firstBot)",
        ] + (idle ? ["--idle"] : []) + (tlsCA.map { ["--tls-ca", $0] } ?? [])
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.standardError
        try process.run()
        self.process = process
        // A plain thread: reading the pipe blocks, and tasks here run on the event loops.
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending[pending.startIndex..<newline]
                    pending = Data(pending[pending.index(after: newline)...])
                    if let parsed = try? JSONDecoder().decode(LoadtestWorkerLine.self, from: line) {
                        self.latestLine.withLock { $0 = (parsed, .now) }
                    }
                }
            }
            self.outputDone.signal()
        }
    }

    var latest: LoadtestWorkerLine? { latestLine.withLock { $0?.line } }

    /// How long ago the latest line arrived (nil before the first).
    var latestAge: Duration? { latestLine.withLock { $0.map { .now - $0.at } } }

    var isRunning: Bool { process.isRunning }

    /// The worker's CPU time so far (nil once it exited).
    var cpuSeconds: Double? { LoadtestCPU.cpuSeconds(ofProcess: process.processIdentifier) }

    func terminate() {
        if process.isRunning { process.terminate() }
    }

    /// Waits until the worker closed its output (it exited).
    func waitForOutput() async {
        while outputDone.wait(timeout: .now()) == .timedOut {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The reports of `workers` added up.
    static func merged(_ workers: [LoadtestWorkerProcess]) -> LoadtestReport {
        var total = LoadtestReport()
        for worker in workers { if let line = worker.latest { total.add(line.report) } }
        return total
    }
}
