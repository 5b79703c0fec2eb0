import Foundation
import NIOCore
import MeridianTransport
import NIOPosix

/// A peer server of a benchmark, run as a child process of `meridian-bench` so that client and
/// server are separate processes, as a real deployment's nodes are.
package final class BenchProcess: Sendable {
    private let process: Process

    /// Starts `executable arguments…` and waits until it accepts TCP connections on `port`.
    package static func start(executable: String, arguments: [String], port: Int, environment: [String: String] = [:]) async throws -> BenchProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let child = BenchProcess(process: process)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw BenchError("\(arguments.joined(separator: " ")) exited with status \(process.terminationStatus)") }
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get() {
                try? await channel.close()
                return child
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        child.stop()
        throw BenchError("\(arguments.joined(separator: " ")) did not listen on port \(port) within 30 s")
    }

    private init(process: Process) {
        self.process = process
    }

    package func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

package struct BenchError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
