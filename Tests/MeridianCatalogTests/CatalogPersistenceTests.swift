import Foundation
import Logging
import MeridianCatalog
import MeridianCluster
import MeridianTransport
import Testing

@Suite("Persistence: last version per node, atomic file, served at once after a restart")
struct CatalogPersistenceTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-catalog-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    @Test("save and load round-trip the snapshot byte for byte")
    func roundTrip() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = CatalogFileStore(directory: directory.path, node: "eu-west-1")
        #expect(try store.load() == nil)
        let content = try CatalogLoader.load(path: CatalogSamples.exampleFile)
        let snapshot = CatalogSnapshot(version: 7, content: content, publishedAt: Date(timeIntervalSince1970: 1_750_000_000.123), publishedBy: "eu-west-1")
        try await store.save(snapshot)
        let loaded = try #require(try CatalogFileStore(directory: directory.path, node: "eu-west-1").load())
        #expect(loaded.stamp == snapshot.stamp)
        #expect(loaded.content == snapshot.content)
        #expect(loaded.publishedBy == "eu-west-1")
        #expect(loaded.publishedAt == snapshot.publishedAt)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(files == ["eu-west-1.catalog"], "no temporary file left: \(files)")
    }

    @Test("the file never goes back to an older version")
    func neverBack() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = CatalogFileStore(directory: directory.path, node: "n")
        let v5 = CatalogSnapshot(version: 5, content: CatalogSamples.consistent(generation: 5))
        let v4 = CatalogSnapshot(version: 4, content: CatalogSamples.consistent(generation: 4))
        try await store.save(v5)
        try await store.save(v4)
        #expect(try CatalogFileStore(directory: directory.path, node: "n").load()?.version == 5)
        // Concurrent saves of many versions end with the newest on disk.
        let snapshots = (6...30).map { CatalogSnapshot(version: UInt64($0), content: CatalogSamples.consistent(generation: $0)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for snapshot in snapshots.shuffled() { group.addTask { try await store.save(snapshot) } }
            try await group.waitForAll()
        }
        #expect(try CatalogFileStore(directory: directory.path, node: "n").load()?.version == 30)
    }

    @Test("a damaged or foreign file is refused with a message, not served")
    func damaged() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = CatalogFileStore(directory: directory.path, node: "n")
        try await store.save(CatalogSnapshot(version: 3, content: CatalogSamples.consistent(generation: 3)))
        let path = directory.appendingPathComponent("n.catalog")
        var bytes = try Data(contentsOf: path)
        bytes[bytes.count - 40] ^= 0xFF  // inside the content: the hash no longer matches
        try bytes.write(to: path)
        #expect(throws: CatalogStoreError.self) { try CatalogFileStore(directory: directory.path, node: "n").load() }
        try Data("not a catalog at all".utf8).write(to: path)
        #expect(throws: CatalogStoreError.self) { try CatalogFileStore(directory: directory.path, node: "n").load() }
        // A PersistedCatalog with `format = 99` (field 1, varint): written by a newer release.
        try Data([0x08, 99]).write(to: path)
        do {
            _ = try CatalogFileStore(directory: directory.path, node: "n").load()
            Issue.record("a file of an unknown format was read")
        } catch {
            #expect(error.description.contains("format 99"))
        }
    }

    @Test("a restarted node serves its persisted version at once, before talking to anyone")
    func restartServesPersisted() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let secret = ClusterSecret(text: "persistence-test-secret-0123")!
        func start() async throws -> (ClusterSystem, CatalogNode) {
            let configuration = ClusterSystem.Configuration(cluster: "persist", node: "eu-west-1", region: "eu-west", secret: secret)
            let system = try await ClusterSystem.start(configuration, logger: logger)
            let catalog = try await CatalogNode.start(
                system: system, configuration: CatalogConfiguration(primaryRegion: "eu-west", dataDirectory: directory.path), logger: logger
            )
            return (system, catalog)
        }
        let (first, firstCatalog) = try await start()
        #expect(firstCatalog.local.version == 0)
        let receipt = try await CatalogAdmin(system: first).publish(CatalogSamples.consistent(generation: 8), source: "test", primaryNodes: ["eu-west-1"])
        #expect(receipt.version == 1)
        #expect(receipt.acknowledged == ["eu-west-1"])
        await firstCatalog.stop()
        await first.shutdown()

        let (second, secondCatalog) = try await start()
        #expect(second.incarnation != first.incarnation)
        #expect(secondCatalog.local.version == 1, "served straight from the file")
        #expect(secondCatalog.local.current.contentHash == receipt.contentHash)
        #expect(CatalogSamples.violation(in: secondCatalog.local.current) == nil)
        let next = try await CatalogAdmin(system: second).publish(CatalogSamples.consistent(generation: 9), source: "test", primaryNodes: ["eu-west-1"])
        #expect(next.version == 2, "versions continue from the persisted one")
        await secondCatalog.stop()
        await second.shutdown()
    }
}
