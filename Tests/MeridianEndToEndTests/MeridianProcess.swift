import Foundation
import MeridianAdmin
import MeridianTransport
import Synchronization
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

    /// The operator token every node of these tests accepts and every command acts with (a test
    /// may give its nodes and commands others).
    static let adminToken = "mrd_e2e-operator-token"
    static let adminTokensFile: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-e2e-admin-tokens-\(ProcessInfo.processInfo.processIdentifier)").path
        try? (AdminTokens.Entry(name: "e2e-operator", role: .operator, token: adminToken).line + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }()

    /// The environment of every process: the cluster secret and the admin token's, then `extra`.
    static func environment(_ extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["MERIDIAN_CLUSTER_SECRET"] = secret
        environment["MERIDIAN_ADMIN_TOKENS_FILE"] = adminTokensFile
        environment["MERIDIAN_ADMIN_TOKEN"] = adminToken
        return environment.merging(extra) { $1 }
    }

    /// Starts a long-running `meridian` process; its output goes to `log`.
    static func start(_ arguments: [String], log: URL, environment extra: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment(extra)
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// Runs `meridian <arguments>` to completion; `output` is its standard output (and its
    /// standard error too, with `withErrors`).
    static func run(_ arguments: [String], withErrors: Bool = false, environment extra: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment(extra)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = withErrors ? pipe : FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// One member as `meridian status --json` prints it.
struct StatusRow: Decodable, Equatable {
    var node: String
    var region: String
    var state: String
    var incarnation: UInt64
}

/// A cluster of real processes: a fresh temporary directory, free ports for every node, and the
/// topology.yaml the suites start `meridian bootstrap` from.
struct ProcessCluster {
    /// One region of the topology: its shard count and the ids of its nodes.
    struct Region {
        var name: String
        var shards: Int
        var nodes: [String]

        init(_ name: String, shards: Int, nodes: [String]) {
            self.name = name
            self.shards = shards
            self.nodes = nodes
        }
    }

    /// A catalog of short matches at 10 Hz (the bots send inputs at the match's tick rate), so
    /// hundreds of bots and several nodes fit on a 2-core CI machine beside the rest of the suite.
    static let shortMatchCatalog = """
        items:
          - { id: gold, name: Gold, category: currency }
        config:
          match_min_players: 2
          match_max_players: 4
          match_tick_hz: 10
          match_lobby_wait_s: 0.5
          match_countdown_s: 0.5
          match_time_limit_s: 4
          match_reward_item: gold
          match_reward_play: 10
          match_reward_win: 100
          matchmaking_full_match_wait_s: 1
          matchmaking_overflow_after_s: 0
        """

    /// Holds topology.yaml, the logs, catalog files and SQLite databases.
    let directory: URL
    /// The topology.yaml in `directory`.
    let topologyPath: String
    /// Every node's cluster and gateway address (`127.0.0.1:port`), by node id.
    let addresses: [String: (cluster: String, gateway: String)]
    /// Every node's admin HTTP address (`127.0.0.1:port`, the topology's `metrics:`), when made with `adminHTTP`.
    let adminAddresses: [String: String]
    /// Every node's region, by node id.
    let regionOfNode: [String: String]

    /// Writes the topology of cluster `name` into a new directory `<directoryPrefix>-<UUID>`.
    /// `latency` maps "region-a/region-b" to milliseconds; where `storage` gives nil, `sqlite:<directory>/<region>`.
    init(
        _ name: String, directoryPrefix: String, regions: [Region], latency: KeyValuePairs<String, Int>,
        catalogPrimary: String, identityAuthority: String? = nil, seeds: [String],
        storage: (_ region: String) -> String? = { _ in nil }, adminHTTP: Bool = false
    ) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(directoryPrefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let nodes = regions.flatMap { region in region.nodes.map { (id: $0, region: region.name) } }
        let ports = try await freeTCPPorts(2 * nodes.count)
        let adminPorts = adminHTTP ? try await freeTCPPorts(nodes.count) : []
        var yaml = "cluster: \(name)\nversion: 1\nregions:\n"
        for region in regions {
            let path = storage(region.name) ?? "sqlite:\(directory.path)/\(region.name)"
            yaml += "  \(region.name): { shards: \(region.shards), storage: \"\(path)\" }\n"
        }
        yaml += "latency_ms:\n" + latency.map { "  \($0.key): \($0.value)\n" }.joined()
        yaml += "catalog_primary: \(catalogPrimary)\nidentity_authority: \(identityAuthority ?? catalogPrimary)\ndev_login: true\n"
        yaml += "seeds: [\(seeds.joined(separator: ", "))]\nnodes:\n"
        var addresses: [String: (cluster: String, gateway: String)] = [:]
        var adminAddresses: [String: String] = [:]
        for (index, node) in nodes.enumerated() {
            let (cluster, gateway) = ("127.0.0.1:\(ports[2 * index])", "127.0.0.1:\(ports[2 * index + 1])")
            addresses[node.id] = (cluster, gateway)
            var metrics = ""
            if adminHTTP {
                adminAddresses[node.id] = "127.0.0.1:\(adminPorts[index])"
                metrics = ", metrics: \"127.0.0.1:\(adminPorts[index])\""
            }
            yaml += "  - { id: \(node.id), region: \(node.region), cluster: \"\(cluster)\", gateway: \"\(gateway)\"\(metrics) }\n"
        }
        self.addresses = addresses
        self.adminAddresses = adminAddresses
        self.regionOfNode = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.region) })
        topologyPath = directory.appendingPathComponent("topology.yaml").path
        try yaml.write(toFile: topologyPath, atomically: true, encoding: .utf8)
    }

    /// Starts `meridian bootstrap` for `node` with `environment` added (MERIDIAN_FAULT, say);
    /// its output goes to `<node>-<run>.log` in `directory`.
    func start(_ node: String, run: Int = 0, environment: [String: String] = [:]) throws -> Process {
        // The node's files (catalog copy, adopted topology) go to `<directory>/<region>` whatever the
        // region's storage: on PostgreSQL the default would be `./data`, shared by every run.
        var environment = environment
        environment["MERIDIAN_DATA_DIR"] = environment["MERIDIAN_DATA_DIR"] ?? directory.appendingPathComponent(regionOfNode[node] ?? "data").path
        return try Meridian.start(
            ["bootstrap", "--topology", topologyPath, "--node", node],
            log: directory.appendingPathComponent("\(node)-\(run).log"),
            environment: environment
        )
    }

    /// Runs `meridian <arguments> --topology <topologyPath>` to completion.
    func meridian(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try Meridian.run(arguments + ["--topology", topologyPath])
    }

    /// The member table of `meridian status --json`, or nil when no node answered within a second.
    func status() -> [StatusRow]? {
        guard let (status, output) = try? meridian(["status", "--json", "--timeout", "1"]), status == 0 else {
            return nil
        }
        return try? JSONDecoder().decode([StatusRow].self, from: Data(output.utf8))
    }

    /// Polls `meridian status` until `predicate` holds; returns the rows and the time it took.
    func waitForStatus(timeout: Duration, _ predicate: ([StatusRow]) -> Bool) async throws -> ([StatusRow], Duration) {
        let start = ContinuousClock.now
        var last: [StatusRow]?
        while ContinuousClock.now - start < timeout {
            if let rows = status() {
                last = rows
                if predicate(rows) { return (rows, ContinuousClock.now - start) }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("status never matched within \(timeout); last: \(String(describing: last))")
        throw CancellationError()
    }

    /// Writes `contents` to `name` in `directory` (a catalog file, say) and returns its path.
    func write(_ name: String, _ contents: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// Asks `condition` every 250 ms until it holds (true) or `timeout` passes (false): for state that
/// real processes reach through their own timers (a restart, a failover), seen from outside.
func eventually(timeout: Duration = .seconds(60), _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? condition()) == true { return true }
        try await Task.sleep(for: .milliseconds(250))
    }
    return false
}

extension Process {
    /// Waits until the process exits — told by its termination, not by polling — for at most
    /// `timeout`; a process still running then is killed (SIGKILL) and the test fails here, so a
    /// process that never exits cannot hang the suite (`waitUntilExit` blocks a thread forever).
    func exited(within timeout: Duration = .seconds(90), sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let pid = processIdentifier
        let timer = Mutex<Task<Void, Never>?>(nil)
        let exited: Bool = await withCheckedContinuation { continuation in
            let resumed = Mutex(false)
            let resume: @Sendable (Bool) -> Void = { value in
                guard resumed.withLock({ done in defer { done = true }; return !done }) else { return }
                continuation.resume(returning: value)
            }
            terminationHandler = { _ in resume(true) }
            if !isRunning { resume(true) }
            timer.withLock {
                $0 = Task {
                    try? await Task.sleep(for: timeout)
                    resume(false)  // a no-op once the process exited
                }
            }
        }
        timer.withLock { $0?.cancel() }
        guard exited else {
            kill(pid, SIGCONT)
            kill(pid, SIGKILL)
            waitUntilExit()
            Issue.record("process \(pid) (\(arguments?.prefix(4).joined(separator: " ") ?? "")) did not exit within \(timeout)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        waitUntilExit()  // already exited: returns at once, and makes terminationStatus readable
    }
}
