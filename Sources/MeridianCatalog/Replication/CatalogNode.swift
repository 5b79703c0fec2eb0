import Distributed
import Logging
import MeridianCluster
import Synchronization

/// A node's catalog: the local, in-memory ``LocalCatalog`` game code reads, and the replica that keeps
/// it up to date (pushes from the leader, anti-entropy every ``CatalogConfiguration/syncInterval`` and on
/// every membership change).
///
/// ```swift
/// let catalog = try await CatalogNode.start(system: system, configuration: .init(primaryRegion: "eu-west", dataDirectory: "data"), logger: logger)
/// let sword = catalog.local.current.item("sword.iron")
/// …
/// await catalog.stop()
/// ```
public final class CatalogNode: Sendable {
    /// What this node serves; read it as often as you like.
    public let local: LocalCatalog
    let replica: CatalogReplica
    private let driver = Mutex<Task<Void, Never>?>(nil)

    private init(local: LocalCatalog, replica: CatalogReplica) {
        self.local = local
        self.replica = replica
    }

    /// Serves the persisted version at once (if any), registers the replica at ``CatalogReplica/path``
    /// on `system`, and starts anti-entropy.
    /// - Throws: ``ClusterError`` when the path is taken (a second catalog on one system).
    public static func start(system: ClusterSystem, configuration: CatalogConfiguration, logger: Logger) async throws -> CatalogNode {
        var logger = logger
        logger[metadataKey: "meridian.node"] = "\(system.nodeID)"
        logger[metadataKey: "meridian.region"] = "\(system.region)"
        let store = configuration.dataDirectory.map { CatalogFileStore(directory: $0, node: system.nodeID) }
        var initial = CatalogSnapshot.empty
        if let store {
            do {
                if let persisted = try store.load() {
                    initial = persisted
                    logger.info("serving the persisted catalog", metadata: [
                        "meridian.catalog.version": "\(persisted.version)", "meridian.catalog.file": "\(store.path)",
                    ])
                }
            } catch {
                // Serving nothing is better than refusing to start: anti-entropy fetches the current version.
                logger.error("ignoring the persisted catalog; the current one will be fetched from the cluster",
                             metadata: ["meridian.error": "\(error)"])
            }
        }
        let local = LocalCatalog(initial: initial)
        let replica = try system.makeActor(path: CatalogReplica.path) {
            CatalogReplica(actorSystem: system, local: local, store: store, configuration: configuration, logger: logger)
        }
        let node = CatalogNode(local: local, replica: replica)
        node.startDriver(membership: system.membership, interval: configuration.syncInterval)
        return node
    }

    private func startDriver(membership: MembershipService, interval: Duration) {
        let replica = self.replica
        let task = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in membership.changes() {
                        await replica.whenLocal { $0.membershipChanged() }
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        await replica.whenLocal { $0.syncRound() }
                        try? await Task.sleep(for: interval)
                    }
                }
            }
        }
        driver.withLock { $0 = task }
    }

    /// Stops anti-entropy. The replica keeps answering until the actor system shuts down.
    public func stop() async {
        let task = driver.withLock { $0.take() }
        task?.cancel()
        await task?.value
    }
}
