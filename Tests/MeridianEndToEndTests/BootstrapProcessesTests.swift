import Foundation
import MeridianTransport
import MeridianMembership
import MeridianTopology
import Testing

/// Starts real `meridian bootstrap` processes, watches them through `meridian status`, and
/// kills one with SIGKILL.
@Suite("meridian processes", .serialized)
struct BootstrapProcessesTests {
    let cluster: ProcessCluster
    let nodes = ["a-1", "a-2", "b-1"]

    init() async throws {
        cluster = try await ProcessCluster(
            "e2e", directoryPrefix: "meridian-e2e",
            regions: [.init("region-a", shards: 4, nodes: ["a-1", "a-2"]), .init("region-b", shards: 4, nodes: ["b-1"])],
            latency: ["region-a/region-b": 20], catalogPrimary: "region-a", seeds: ["a-1", "b-1"]
        )
    }

    func status() -> [StatusRow]? { cluster.status() }

    func waitForStatus(timeout: Duration, _ predicate: ([StatusRow]) -> Bool) async throws -> ([StatusRow], Duration) {
        try await cluster.waitForStatus(timeout: timeout, predicate)
    }

    @Test func nodesJoinAKilledNodeIsDownAndRejoinsAsANewIncarnation() async throws {
        var processes = try nodes.map { try cluster.start($0) }
        defer {
            for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        let (up, _) = try await waitForStatus(timeout: .seconds(60)) { rows in
            Set(rows.filter { $0.state == "up" }.map(\.node)) == Set(nodes)
        }
        let victim = up.first { $0.node == "a-2" }!

        kill(processes[1].processIdentifier, SIGKILL)
        try await processes[1].exited()
        // Documented in SWIMConfiguration: worst case from crash to down, in-region.
        let bound = SWIMConfiguration().detectionBound(memberCount: nodes.count)
        let (_, detected) = try await waitForStatus(timeout: bound + .seconds(15)) { rows in
            rows.contains { $0.node == "a-2" && $0.incarnation == victim.incarnation && ($0.state == "down" || $0.state == "removed") }
        }
        print("a-2 seen down \(detected) after SIGKILL (documented bound \(bound), plus status polling)")
        #expect(detected <= bound + .seconds(5), "detection took \(detected); bound \(bound) + polling and load slack")

        processes[1] = try cluster.start("a-2", run: 1)
        let (rejoined, _) = try await waitForStatus(timeout: .seconds(60)) { rows in
            rows.contains { $0.node == "a-2" && $0.state == "up" && $0.incarnation > victim.incarnation }
        }
        let count1 = rejoined.filter { $0.state == "up" }.count
        #expect(count1 == 3)

        for process in processes { process.terminate() }
        for process in processes { try await process.exited() }
        try? FileManager.default.removeItem(at: cluster.directory)
    }

    @Test func aNodeJoinsThroughASeedAndReceivesTheTopology() async throws {
        let seed = try cluster.start("a-1")
        let listen = "127.0.0.1:\(try await freeTCPPort())"
        let joiner = try Meridian.start(
            ["bootstrap", "--seed", try #require(cluster.addresses["a-1"]).cluster, "--node", "a-9", "--region", "region-a", "--listen", listen, "--cluster", "e2e"],
            log: cluster.directory.appendingPathComponent("a-9.log")
        )
        defer {
            for process in [seed, joiner] where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        let (rows, _) = try await waitForStatus(timeout: .seconds(60)) { rows in
            rows.contains { $0.node == "a-9" && $0.state == "up" } && rows.contains { $0.node == "a-1" && $0.state == "up" }
        }
        let region2 = rows.first { $0.node == "a-9" }?.region
        #expect(region2 == "region-a")
        // SIGTERM: the joiner leaves gracefully and the seed sees it down.
        joiner.terminate()
        try await joiner.exited()
        _ = try await waitForStatus(timeout: .seconds(30)) { rows in
            rows.contains { $0.node == "a-9" && ($0.state == "down" || $0.state == "removed") }
        }
        seed.terminate()
        try await seed.exited()
        try? FileManager.default.removeItem(at: cluster.directory)
    }

    @Test func topologyValidateReportsLinesAndExitsOne() async throws {
        let bad = try cluster.write("bad.yaml", "cluster: x\nversion: 0\nregions:\n  r: { shards: 0, storage: \"sqlite:x\" }\nnodes: []\nseeds: [ghost]\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Meridian.executable)
        process.arguments = ["topology", "validate", bad]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try await process.exited()
        #expect(process.terminationStatus == 1)
        #expect(output.contains("bad.yaml:2:"), "version error on line 2: \(output)")
        #expect(output.contains("bad.yaml:4:"), "shards error on line 4: \(output)")
        #expect((try Meridian.run(["topology", "validate", cluster.topologyPath])).status == 0)
        try? FileManager.default.removeItem(at: cluster.directory)
    }
}
