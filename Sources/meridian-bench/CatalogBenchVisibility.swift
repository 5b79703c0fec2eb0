import MeridianLatency
import MeridianCommandLine
import Foundation
import Logging
import MeridianBench
import MeridianCatalog
import MeridianCluster
import MeridianMembership
import MeridianTopology
import MeridianTransport
import Synchronization

/// `meridian-bench catalog`, part 2: the time from `publish` until every node of every region serves
/// the new version, on the nodes of a topology (Topology/local.yaml: 3 regions, 2 nodes each) run as
/// in-process ClusterSystems with the topology's inter-region latency emulated on the wire, each with its
/// catalog replica persisting to a temporary directory (the leader's fsync is in the path).
struct CatalogVisibilityBenchmark {
    struct RegionResult: Codable, Sendable {
        var region: String
        var oneWayFromPrimaryMs: Double
        var p50Ms: Double
        var p99Ms: Double
        var maxMs: Double

        enum CodingKeys: String, CodingKey {
            case region
            case oneWayFromPrimaryMs = "one_way_from_primary_ms"
            case p50Ms = "p50_ms"
            case p99Ms = "p99_ms"
            case maxMs = "max_ms"
        }
    }

    struct Result: Codable, Sendable {
        var publishes: Int
        var nodes: Int
        var largestRoundTripMs: Double
        var goalMs: Double
        var regions: [RegionResult]
        var everywhere: RegionResult
        var publishCallP50Ms: Double

        enum CodingKeys: String, CodingKey {
            case publishes, nodes, regions, everywhere
            case largestRoundTripMs = "largest_rtt_ms"
            case goalMs = "goal_ms"
            case publishCallP50Ms = "publish_call_p50_ms"
        }
    }

    let topology: Topology
    let content: CatalogContent
    var publishes = 20
    var pause: Duration = .milliseconds(200)
    let logger: Logger

    func run(progress: (String) -> Void) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-bench-catalog-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let secret = ClusterSecret.random()
        var running: [(system: ClusterSystem, catalog: CatalogNode)] = []
        do {
            let result = try await measure(directory: directory, secret: secret, running: &running, progress: progress)
            for node in running { await node.catalog.stop(); await node.system.shutdown() }
            return result
        } catch {
            for node in running { await node.catalog.stop(); await node.system.shutdown() }
            throw error
        }
    }

    private func measure(
        directory: URL, secret: ClusterSecret, running: inout [(system: ClusterSystem, catalog: CatalogNode)], progress: (String) -> Void
    ) async throws -> Result {
        progress("catalog visibility: starting \(topology.nodes.count) nodes of \(topology.regions.count) regions in this process")
        for node in topology.nodes {
            var configuration = ClusterSystem.Configuration(cluster: "bench-\(topology.cluster)", node: node.id, region: node.region, secret: secret)
            configuration.seeds = running.map(\.system.address)
            let latency = topology.latency
            configuration.oneWayLatency = { latency.oneWay(from: $0, to: $1) }
            configuration.emulateLatency = true
            let system = try await ClusterSystem.start(configuration, logger: logger)
            let catalog = try await CatalogNode.start(
                system: system,
                configuration: CatalogConfiguration(primaryRegion: topology.catalogPrimary, dataDirectory: directory.path),
                logger: logger
            )
            running.append((system, catalog))
        }
        let everyNode = Set(topology.nodes.map(\.id))
        for node in running {
            try await node.system.membership.waitUntil(timeout: .seconds(60)) { members in
                everyNode.isSubset(of: Set(members.filter { $0.status == .up }.map(\.id.node)))
            }
        }
        let primary = topology.nodes(in: topology.catalogPrimary).map(\.id).sorted()
        guard let publisher = running.first(where: { $0.system.nodeID == primary.first }) else {
            throw CatalogPublishError(.noLeader, "the topology has no node in its catalog_primary region")
        }
        let admin = CatalogAdmin(system: publisher.system)
        // Warm-up: connections open, call targets interned, files created.
        _ = try await admin.publish(variant(0), source: "bench", primaryNodes: primary)

        var perRegion: [String: LatencyRecorder] = [:]
        var everywhere = LatencyRecorder()
        var calls = LatencyRecorder()
        for index in 1...publishes {
            progress("catalog visibility: publish \(index) of \(publishes)")
            let content = variant(index)
            let expected = CatalogSnapshot(version: 0, content: content).contentHash
            let clock = ContinuousClock()
            let start = clock.now
            // Every node notes when it serves the new catalog; the publish runs meanwhile.
            let seen = try await withThrowingTaskGroup(of: (String, String, Duration).self) { group in
                for node in running {
                    let updates = node.catalog.local.updates()
                    let local = node.catalog.local
                    let id = node.system.nodeID, region = node.system.region
                    group.addTask {
                        if local.current.contentHash == expected { return (id, region, start.duration(to: clock.now)) }
                        for await snapshot in updates where snapshot.contentHash == expected {
                            return (id, region, start.duration(to: clock.now))
                        }
                        throw CancellationError()
                    }
                }
                group.addTask {
                    _ = try await admin.publish(content, source: "bench", primaryNodes: primary)
                    return ("", "", start.duration(to: clock.now))
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(30))
                    throw CatalogPublishError(.unreachable, "a publish was not served by every node within 30 s")
                }
                var seen: [(String, String, Duration)] = []
                while seen.count < running.count + 1, let result = try await group.next() { seen.append(result) }
                group.cancelAll()
                return seen
            }
            var slowest: [String: Duration] = [:]
            for (node, region, elapsed) in seen {
                if node.isEmpty {
                    calls.record(elapsed)
                } else {
                    slowest[region] = max(slowest[region] ?? .zero, elapsed)
                }
            }
            for (region, elapsed) in slowest { perRegion[region, default: LatencyRecorder()].record(elapsed) }
            everywhere.record(slowest.values.max() ?? .zero)
            try await Task.sleep(for: pause)
        }

        let farthest = topology.regions.map { topology.latency.oneWay(from: topology.catalogPrimary, to: $0.name) }.max() ?? .zero
        func result(_ name: String, _ recorder: LatencyRecorder) -> RegionResult {
            RegionResult(
                region: name,
                oneWayFromPrimaryMs: (perRegion[name] == nil ? farthest : topology.latency.oneWay(from: topology.catalogPrimary, to: name))
                    .benchMicroseconds / 1e3,
                p50Ms: recorder.p50.benchMicroseconds / 1e3,
                p99Ms: recorder.p99.benchMicroseconds / 1e3,
                maxMs: recorder.max.benchMicroseconds / 1e3
            )
        }
        let largest = topology.latency.largestRoundTrip.benchMicroseconds / 1e3
        return Result(
            publishes: publishes,
            nodes: running.count,
            largestRoundTripMs: largest,
            goalMs: largest + 100,
            regions: topology.regions.map(\.name).compactMap { name in perRegion[name].map { result(name, $0) } },
            everywhere: result("everywhere", everywhere),
            publishCallP50Ms: calls.p50.benchMicroseconds / 1e3
        )
    }

    private func variant(_ index: Int) -> CatalogContent {
        var copy = content
        copy.config.values["bench_publish"] = .int(Int64(index))
        return copy
    }
}
