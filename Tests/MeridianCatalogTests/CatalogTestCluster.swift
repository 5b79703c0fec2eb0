import Foundation
import Logging
import MeridianCatalog
import MeridianCluster
import MeridianMembership
import MeridianTopology
import MeridianTransport
import Synchronization
import Testing

/// The nodes of `Topology/local.yaml` (3 regions, 2 nodes each) as in-process `ClusterSystem`s on
/// loopback, with the file's inter-region latency emulated on the wire, each running a catalog replica
/// that persists under one temporary directory. Nodes can be stopped and started again (a new
/// incarnation, same data directory).
final class CatalogTestCluster: Sendable {
    struct Running: Sendable {
        var system: ClusterSystem
        var catalog: CatalogNode
    }

    static let secret = ClusterSecret(text: "catalog-test-secret-0123456789")!
    static let topology: Topology = {
        let path = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Topology/local.yaml").path
        do {
            return try TopologyLoader.load(path: path)
        } catch {
            fatalError("Topology/local.yaml must load: \(error)")
        }
    }()

    let name: String
    let directory: URL
    let logger: Logger
    /// SWIM's in-region suspicion timeout; longer lets a test cut a node off without it being declared down.
    let suspicionTimeout: Duration
    /// How long a publish waits for each push.
    let pushTimeout: Duration
    private let running = Mutex<[String: Running]>([:])

    private init(name: String, suspicionTimeout: Duration, pushTimeout: Duration) throws {
        self.name = name
        self.suspicionTimeout = suspicionTimeout
        self.pushTimeout = pushTimeout
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-catalog-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var logger = Logger(label: "catalog-test")
        logger.logLevel = ProcessInfo.processInfo.environment["MERIDIAN_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        self.logger = logger
    }

    /// Starts every node of local.yaml and waits until they all see each other up.
    static func start(
        name: String = #function, suspicionTimeout: Duration = .milliseconds(800), pushTimeout: Duration = .seconds(3)
    ) async throws -> CatalogTestCluster {
        let cluster = try CatalogTestCluster(
            name: String(name.filter { $0.isLetter }.prefix(24)), suspicionTimeout: suspicionTimeout, pushTimeout: pushTimeout
        )
        for node in topology.nodes {
            try await cluster.start(node.id)
        }
        try await cluster.waitUntilUp(topology.nodes.map(\.id))
        return cluster
    }

    var nodeIDs: [String] { Self.topology.nodes.map(\.id) }

    func node(_ id: String) -> Running? { running.withLock { $0[id] } }

    var all: [Running] { running.withLock { Array($0.values) } }

    func configuration(_ id: String) -> ClusterSystem.Configuration {
        let region = Self.topology.node(id: id)!.region
        var configuration = ClusterSystem.Configuration(cluster: name, node: id, region: region, secret: Self.secret)
        // Every node already running is a seed, so any node can be restarted and find the others.
        configuration.seeds = running.withLock { $0.values.map(\.system.address).sorted() }
        configuration.callTimeout = .seconds(10)
        configuration.membership.probeInterval = .milliseconds(200)
        configuration.membership.pingTimeout = .milliseconds(150)
        configuration.membership.suspicionTimeout = suspicionTimeout
        configuration.membership.joinRetryInterval = .milliseconds(200)
        configuration.membership.removalDelay = .seconds(3)
        let latency = Self.topology.latency
        configuration.oneWayLatency = { latency.oneWay(from: $0, to: $1) }
        configuration.emulateLatency = true
        return configuration
    }

    func catalogConfiguration() -> CatalogConfiguration {
        var configuration = CatalogConfiguration(primaryRegion: Self.topology.catalogPrimary, dataDirectory: directory.path)
        configuration.syncInterval = .milliseconds(500)
        configuration.callTimeout = .seconds(2)
        configuration.pushTimeout = pushTimeout
        return configuration
    }

    /// Starts (or restarts, as a new incarnation) node `id`.
    @discardableResult
    func start(_ id: String) async throws -> Running {
        let system = try await ClusterSystem.start(configuration(id), logger: logger)
        let catalog = try await CatalogNode.start(system: system, configuration: catalogConfiguration(), logger: logger)
        let node = Running(system: system, catalog: catalog)
        running.withLock { $0[id] = node }
        return node
    }

    /// Stops node `id` gracefully (it leaves the cluster); its data directory stays.
    func stop(_ id: String) async {
        guard let node = running.withLock({ $0.removeValue(forKey: id) }) else { return }
        await node.catalog.stop()
        await node.system.shutdown()
    }

    /// Waits until every running node sees every node in `ids` up (and no other incarnation of them).
    func waitUntilUp(_ ids: [String], timeout: Duration = .seconds(30)) async throws {
        let expected = Set(ids)
        for node in all {
            try await node.system.membership.waitUntil(timeout: timeout) { members in
                let up = members.filter { $0.status == .up }.map(\.id.node)
                return expected.isSubset(of: Set(up))
            }
        }
    }

    /// Waits until every running node serves at least `version`; returns the time it took.
    @discardableResult
    func waitUntilServed(_ version: UInt64, timeout: Duration = .seconds(20)) async throws -> Duration {
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in all {
                group.addTask { try await node.catalog.local.waitForVersion(version, timeout: timeout) }
            }
            try await group.waitForAll()
        }
        return ContinuousClock.now - start
    }

    /// A client that does not join the cluster, like `meridian catalog`.
    func adminClient() async throws -> ClusterSystem {
        var configuration = ClusterSystem.Configuration(cluster: name, node: "admin-\(UUID().uuidString.prefix(8))", region: "admin", secret: Self.secret)
        configuration.joinsCluster = false
        configuration.callTimeout = .seconds(10)
        configuration.knownAddresses = Dictionary(uniqueKeysWithValues: all.map { ($0.system.nodeID, $0.system.address) })
        return try await ClusterSystem.start(configuration, logger: logger)
    }

    /// Drops (or stops dropping) all traffic between node `id` and every other node, both ways.
    func setCutOff(_ id: String, _ cutOff: Bool) {
        for node in all {
            if node.system.nodeID == id {
                for other in nodeIDs where other != id { node.system.linkEmulation?.setPartitioned(node: other, cutOff) }
            } else {
                node.system.linkEmulation?.setPartitioned(node: id, cutOff)
            }
        }
    }

    var primaryNodes: [String] { Self.topology.nodes(in: Self.topology.catalogPrimary).map(\.id).sorted() }

    func shutdown() async {
        for id in running.withLock({ Array($0.keys) }) { await stop(id) }
        try? FileManager.default.removeItem(at: directory)
    }
}
