import Distributed
import Logging
import MeridianClock
import MeridianCluster
import MeridianTestScope
import Synchronization
import Testing

/// Collects the nodes whose actor system was freed (its deinit logs "actor system freed").
private struct FreedSystemsLogHandler: LogHandler {
    let freed: AsyncStream<String>.Continuation
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.message.description == "actor system freed", case .string(let node)? = metadata["meridian.node"] else { return }
        freed.yield(node)
    }
}

@Suite("Shutdown")
struct ShutdownTests {
    /// A node declared down starts again in the same process: a stopped system must not stay in
    /// memory with its transport, membership, actors and stores (the status actor, activated
    /// actors, activators and peer sessions all hold their system).
    @Test func aStoppedNodeIsFreedWithItsActors() async throws {
        let (freed, continuation) = AsyncStream.makeStream(of: String.self)
        let logger = Logger(label: "shutdown-test") { _ in FreedSystemsLogHandler(freed: continuation) }
        var nodes: Set<String> = []
        try await ClusterSlots.shared.withSlot {
            let cluster = try await TestCluster.start(nodes: 2, logger: logger)
            let (caller, host) = (cluster.systems[0], cluster.systems[1])
            nodes = Set(cluster.systems.map(\.nodeID))
            // An activator holding its system strongly, and an activated actor the node keeps.
            host.registerActivator(prefix: "/tally/", passivateAfter: .seconds(3600)) { path in
                try host.makeActor(path: path) { Tally(actorSystem: host) }
            }
            let tally = try Tally.resolve(id: ClusterActorID(node: host.nodeID, incarnation: host.incarnation, path: "/tally/1"), using: caller)
            #expect(try await tally.add(2) == 2)
            let local = try caller.makeActor(path: "/calculator") { Calculator(actorSystem: caller) }
            let remote = try Calculator.resolve(id: local.id, using: host)
            #expect(try await remote.add(1, 2) == 3)
            await cluster.shutdown()
        }
        // Waits for both deinits; the deadline only bounds a failure (a leak never logs).
        let unfreed = await withTaskGroup(of: Set<String>?.self) { group in
            group.addTask { [nodes] in
                var waiting = nodes
                for await node in freed {
                    waiting.remove(node)
                    if waiting.isEmpty { break }
                }
                return waiting
            }
            group.addTask { [nodes] in
                try? await Task.sleep(for: .seconds(30))
                return Task.isCancelled ? nil : nodes
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        #expect(unfreed == [], "never freed: \(unfreed ?? [])")
    }
}
