import Foundation
import MeridianCommandLine

/// A `meridian loadtest worker` child process and the newest report line it printed.
///
/// Every line the worker prints, and the end of its output, wakes whoever waits on it
/// (``waitForLine(until:where:)``, ``waitForOutput()``): nothing here is polled.
final class LoadtestWorkerProcess: Sendable {
    private let process: Process
    private let lines = LatestValue<LoadtestWorkerLine>()

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
                        self.lines.publish(parsed)
                    }
                }
            }
            self.lines.end()
        }
    }

    var latest: LoadtestWorkerLine? { lines.value }

    /// How long ago the latest line arrived (nil before the first).
    var latestAge: Duration? { lines.age }

    var isRunning: Bool { process.isRunning }

    /// The worker's CPU time so far (nil once it exited).
    var cpuSeconds: Double? { LoadtestCPU.cpuSeconds(ofProcess: process.processIdentifier) }

    func terminate() {
        if process.isRunning { process.terminate() }
    }

    /// Waits until the worker closed its output (it exited), or the task is cancelled.
    func waitForOutput() async {
        await lines.waitForEnd()
    }

    /// Waits until the worker prints a line that `satisfies` — or its output ends, the task is
    /// cancelled or `deadline` passes — and returns its newest line then (nil before the first).
    @discardableResult
    func waitForLine(until deadline: ContinuousClock.Instant, where satisfies: (LoadtestWorkerLine) -> Bool) async -> LoadtestWorkerLine? {
        await lines.wait(until: deadline, clock: ContinuousClock(), where: satisfies)
    }

    /// The reports of `workers` added up.
    static func merged(_ workers: [LoadtestWorkerProcess]) -> LoadtestReport {
        var total = LoadtestReport()
        for worker in workers { if let line = worker.latest { total.add(line.report) } }
        return total
    }
}
