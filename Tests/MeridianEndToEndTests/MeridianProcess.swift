import Foundation
import Testing

/// Runs the `meridian` executable built by `swift build` (scripts/test exports its path as
/// MERIDIAN_BIN; otherwise .build/debug/meridian under the package root).
enum Meridian {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var executable: String {
        if let path = ProcessInfo.processInfo.environment["MERIDIAN_BIN"] { return path }
        return packageRoot.appendingPathComponent(".build/debug/meridian").path
    }

    static let secret = "e2e-cluster-secret-0123456789"

    /// Starts a long-running `meridian` process; its output goes to `log`.
    static func start(_ arguments: [String], log: URL, environment extra: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        environment["MERIDIAN_CLUSTER_SECRET"] = secret
        process.environment = environment
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// Runs `meridian` to completion and returns its exit status and standard output.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["MERIDIAN_CLUSTER_SECRET"] = secret
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// `count` distinct free ports: every socket stays bound until all are chosen, so the
    /// kernel cannot hand the same port out twice.
    static func freePorts(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            sockets.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            guard bound else { throw POSIXError(.EADDRINUSE) }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }

    static func freePort() throws -> Int {
        try freePorts(1)[0]
    }
}

/// One member as `meridian status --json` prints it.
struct StatusRow: Decodable, Equatable {
    var node: String
    var region: String
    var state: String
    var incarnation: UInt64
}
