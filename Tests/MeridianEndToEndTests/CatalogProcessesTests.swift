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

    let cluster: ProcessCluster
    let nodes = ["a-1", "b-1", "c-1"]

    init() async throws {
        cluster = try await ProcessCluster(
            "e2e-catalog", directoryPrefix: "meridian-e2e-catalog",
            regions: [
                .init("region-a", shards: 4, nodes: ["a-1"]),
                .init("region-b", shards: 4, nodes: ["b-1"]),
                .init("region-c", shards: 4, nodes: ["c-1"]),
            ],
            latency: ["region-a/region-b": 20, "region-a/region-c": 35, "region-b/region-c": 25],
            catalogPrimary: "region-a", seeds: ["a-1", "b-1"]
        )
    }

    /// A catalog file whose config `generation` tells versions apart.
    func catalogFile(generation: Int) throws -> String {
        try cluster.write("catalog-\(generation).yaml", """
            items:
              - { id: gold, name: Gold, category: currency }
              - { id: sword.\(generation), name: Sword \(generation), category: equipment }
            offers:
              - { id: offer.sword, item: sword.\(generation), price: { currency: gold, amount: \(100 * generation) } }
            config:
              generation: \(generation)
            flags:
              new_matchmaker: { enabled: true, rollout: \(generation * 10) }
            """)
    }

    func show() -> [CatalogRow]? {
        guard let (status, output) = try? cluster.meridian(["catalog", "show", "--json", "--timeout", "1"]), status == 0 else {
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

    /// Standard error too: a refused publish says why there.
    func publish(_ file: String) throws -> (status: Int32, output: String) {
        try Meridian.run(["catalog", "publish", file, "--topology", cluster.topologyPath], withErrors: true)
    }

    @Test func publishReachesEveryProcessAndAKilledNodeConvergesAfterRestart() async throws {
        var processes = try nodes.map { try cluster.start($0) }
        defer {
            for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        // Every node answers (still without a catalog) once it is up.
        _ = try await waitForShow(timeout: .seconds(60)) { rows in
            rows.count == 3 && rows.allSatisfy { $0.error == nil && $0.version == 0 }
        }

        let first = try publish(try catalogFile(generation: 1))
        print("publish v1:\n\(first.output)")
        #expect(first.status == 0, "publish v1: \(first.output)")
        #expect(first.output.contains("published catalog v1"), "\(first.output)")
        // A node may acknowledge within the publish's window or catch up by anti-entropy (on a
        // starved machine b-1 once answered late: "acknowledged by 2 of 3"); either way every
        // node serves v1 below, which is the promise.
        #expect(first.output.contains("leader a-1; acknowledged by"), "\(first.output)")
        let afterFirst = try await waitForShow(timeout: .seconds(30)) { rows in rows.allSatisfy { $0.version == 1 } }
        #expect(Set(afterFirst.compactMap(\.content_hash)).count == 1, "one content hash everywhere: \(afterFirst)")
        #expect(afterFirst.map(\.node) == nodes)

        // A bad file: exit 1, nothing sent, nothing changes.
        let bad = try cluster.write(
            "bad.yaml", "items:\n  - { id: gold, name: Gold, category: currency }\noffers:\n  - { id: o, item: ghost, price: { currency: gold, amount: 1 } }\n"
        )
        #expect(try publish(bad).status == 1)

        // c-1 dies without a word; the next version is published without it.
        kill(processes[2].processIdentifier, SIGKILL)
        try await processes[2].exited()
        let second = try publish(try catalogFile(generation: 2))
        print("publish v2 with c-1 killed:\n\(second.output)")
        #expect(second.status == 0, "publish v2: \(second.output)")
        #expect(second.output.contains("published catalog v2"), "\(second.output)")
        _ = try await waitForShow(timeout: .seconds(30)) { rows in
            rows.filter { $0.node != "c-1" }.allSatisfy { $0.version == 2 } && rows.first { $0.node == "c-1" }?.error != nil
        }

        // Restarted, it serves its persisted v1 at once, then pulls v2 from the leader.
        processes[2] = try cluster.start("c-1", run: 1)
        let converged = try await waitForShow(timeout: .seconds(60)) { rows in
            rows.count == 3 && rows.allSatisfy { $0.version == 2 && $0.error == nil }
        }
        #expect(Set(converged.compactMap(\.content_hash)).count == 1)
        print("converged after the restart: \(converged)")
        let log = try String(contentsOf: cluster.directory.appendingPathComponent("c-1-1.log"), encoding: .utf8)
        #expect(log.contains("serving the persisted catalog"), "c-1 restarted from its file")

        for process in processes { process.terminate() }
        for process in processes { try await process.exited() }
        try? FileManager.default.removeItem(at: cluster.directory)
    }
}
