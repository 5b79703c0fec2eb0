import Foundation
import Testing

/// Real `meridian bootstrap` processes in three regions: `meridian catalog publish` reaches every node,
/// `meridian catalog show --json` reports it, and a node killed with SIGKILL catches up when restarted.
@Suite("meridian catalog across processes", .serialized)
struct CatalogProcessesTests {
    /// One node as `meridian catalog show --json` prints it.
    struct CatalogRow: Decodable, Equatable {
        var node: String
        var region: String
        var version: UInt64?
        var content_hash: String?
        var error: String?
    }

    let directory: URL
    let topologyPath: String
    let nodes = ["a-1", "b-1", "c-1"]

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-e2e-catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ports = try Meridian.freePorts(6)
        let yaml = """
            cluster: e2e-catalog
            version: 1
            regions:
              region-a: { shards: 4, storage: "sqlite:\(directory.path)/a" }
              region-b: { shards: 4, storage: "sqlite:\(directory.path)/b" }
              region-c: { shards: 4, storage: "sqlite:\(directory.path)/c" }
            latency_ms:
              region-a/region-b: 20
              region-a/region-c: 35
              region-b/region-c: 25
            catalog_primary: region-a
            identity_authority: region-a
            seeds: [a-1, b-1]
            nodes:
              - { id: a-1, region: region-a, cluster: "127.0.0.1:\(ports[0])", gateway: "127.0.0.1:\(ports[1])" }
              - { id: b-1, region: region-b, cluster: "127.0.0.1:\(ports[2])", gateway: "127.0.0.1:\(ports[3])" }
              - { id: c-1, region: region-c, cluster: "127.0.0.1:\(ports[4])", gateway: "127.0.0.1:\(ports[5])" }
            """
        topologyPath = directory.appendingPathComponent("topology.yaml").path
        try yaml.write(toFile: topologyPath, atomically: true, encoding: .utf8)
    }

    func start(_ node: String, run: Int = 0) throws -> Process {
        try Meridian.start(
            ["bootstrap", "--topology", topologyPath, "--node", node],
            log: directory.appendingPathComponent("\(node)-\(run).log")
        )
    }

    /// A catalog file whose config `generation` tells versions apart.
    func catalogFile(generation: Int) throws -> String {
        let path = directory.appendingPathComponent("catalog-\(generation).yaml").path
        try """
            items:
              - { id: gold, name: Gold, category: currency }
              - { id: sword.\(generation), name: Sword \(generation), category: equipment }
            offers:
              - { id: offer.sword, item: sword.\(generation), price: { currency: gold, amount: \(100 * generation) } }
            config:
              generation: \(generation)
            flags:
              new_matchmaker: { enabled: true, rollout: \(generation * 10) }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func show() -> [CatalogRow]? {
        guard let (status, output) = try? Meridian.run(["catalog", "show", "--topology", topologyPath, "--json", "--timeout", "1"]), status == 0 else {
            return nil
        }
        return try? JSONDecoder().decode([CatalogRow].self, from: Data(output.utf8))
    }

    /// Polls `meridian catalog show --json` until `predicate` holds.
    func waitForShow(timeout: Duration, _ predicate: ([CatalogRow]) -> Bool) async throws -> [CatalogRow] {
        let start = ContinuousClock.now
        var last: [CatalogRow]?
        while ContinuousClock.now - start < timeout {
            if let rows = show() {
                last = rows
                if predicate(rows) { return rows }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("catalog show never matched within \(timeout); last: \(String(describing: last))")
        throw CancellationError()
    }

    func publish(_ file: String) throws -> (status: Int32, output: String) {
        try Meridian.run(["catalog", "publish", "--topology", topologyPath, file])
    }

    @Test func publishReachesEveryProcessAndAKilledNodeConvergesAfterRestart() async throws {
        var processes = try nodes.map { try start($0) }
        defer {
            for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        // Every node answers (still without a catalog) once it is up.
        _ = try await waitForShow(timeout: .seconds(60)) { rows in
            rows.count == 3 && rows.allSatisfy { $0.error == nil && $0.version == 0 }
        }
        // Give membership a moment so that the leader knows every member before the first push.
        try await Task.sleep(for: .seconds(2))

        let first = try publish(try catalogFile(generation: 1))
        print("publish v1:\n\(first.output)")
        #expect(first.status == 0, "publish v1: \(first.output)")
        #expect(first.output.contains("published catalog v1"), "\(first.output)")
        #expect(first.output.contains("leader a-1; acknowledged by 3 of 3 nodes"), "\(first.output)")
        let afterFirst = try await waitForShow(timeout: .seconds(30)) { rows in rows.allSatisfy { $0.version == 1 } }
        #expect(Set(afterFirst.compactMap(\.content_hash)).count == 1, "one content hash everywhere: \(afterFirst)")
        #expect(afterFirst.map(\.node) == nodes)

        // A bad file: exit 1, nothing sent, nothing changes.
        let bad = directory.appendingPathComponent("bad.yaml").path
        try "items:\n  - { id: gold, name: Gold, category: currency }\noffers:\n  - { id: o, item: ghost, price: { currency: gold, amount: 1 } }\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(try publish(bad).status == 1)

        // c-1 dies without a word; the next version is published without it.
        kill(processes[2].processIdentifier, SIGKILL)
        processes[2].waitUntilExit()
        let second = try publish(try catalogFile(generation: 2))
        print("publish v2 with c-1 killed:\n\(second.output)")
        #expect(second.status == 0, "publish v2: \(second.output)")
        #expect(second.output.contains("published catalog v2"), "\(second.output)")
        _ = try await waitForShow(timeout: .seconds(30)) { rows in
            rows.filter { $0.node != "c-1" }.allSatisfy { $0.version == 2 } && rows.first { $0.node == "c-1" }?.error != nil
        }

        // Restarted, it serves its persisted v1 at once, then pulls v2 from the leader.
        processes[2] = try start("c-1", run: 1)
        let converged = try await waitForShow(timeout: .seconds(60)) { rows in
            rows.count == 3 && rows.allSatisfy { $0.version == 2 && $0.error == nil }
        }
        #expect(Set(converged.compactMap(\.content_hash)).count == 1)
        print("converged after the restart: \(converged)")
        let log = try String(contentsOf: directory.appendingPathComponent("c-1-1.log"), encoding: .utf8)
        #expect(log.contains("serving the persisted catalog"), "c-1 restarted from its file")

        for process in processes { process.terminate() }
        for process in processes { process.waitUntilExit() }
        try? FileManager.default.removeItem(at: directory)
    }
}
