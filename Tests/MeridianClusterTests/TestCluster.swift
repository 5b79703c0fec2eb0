import Distributed
import Foundation
import Logging
import MeridianClock
import MeridianCluster
import MeridianMembership
import MeridianTestScope
import MeridianTransport
import Synchronization

/// Several `ClusterSystem`s on loopback (real TCP), joined through the first one.
struct TestCluster {
    var systems: [ClusterSystem]

    static let secret = ClusterSecret(text: "test-secret-0123456789")!

    static func configuration(node: String, region: String = "eu-west", seeds: [String]) -> ClusterSystem.Configuration {
        var configuration = ClusterSystem.Configuration(cluster: "test", node: node, region: region, secret: secret)
        configuration.seeds = seeds
        configuration.callTimeout = .seconds(10)
        // Quick probes, but a suspicion has 10 s to be refuted: no test of this suite waits for
        // a timed-out suspicion (a node that stops leaves, and its peers mark it down at once),
        // while a starved machine (every suite at once on 2 cores, or a sanitizer's 5–15×
        // slowdown) can keep a busy node from answering for seconds. With 1.5 s, a TSan run once
        // had a freshly joined node declared down during set-up, and an in-process system does
        // not rejoin by itself (the node's supervisor does that), so the set-up timed out.
        configuration.membership.probeInterval = .milliseconds(200)
        configuration.membership.pingTimeout = .milliseconds(150)
        configuration.membership.suspicionTimeout = .seconds(10)
        configuration.membership.joinRetryInterval = .milliseconds(200)
        configuration.membership.removalDelay = .seconds(2)
        return configuration
    }

    /// Runs `body` on `count` nodes that see each other up, holding one of the process's
    /// ``ClusterSlots``; every node is stopped before this returns or throws.
    /// With a `clock`, every node's timed actor work (passivation) runs on it: the test steps time.
    /// `configure` adjusts every node's configuration.
    static func with<T>(
        nodes count: Int, name: String = #function, clock: ManualClock? = nil,
        configure: @escaping (inout ClusterSystem.Configuration) -> Void = { _ in },
        _ body: (TestCluster) async throws -> T
    ) async throws -> T {
        try await ClusterSlots.shared.withSlot {
            try await withScoped({ try await start(nodes: count, name: name, clock: clock, configure: configure) }, teardown: { await $0.shutdown() }, body)
        }
    }

    /// Starts `count` nodes; the caller stops them (prefer ``with(nodes:name:_:)``).
    static func start(
        nodes count: Int, name: String = #function, clock: ManualClock? = nil,
        configure: (inout ClusterSystem.Configuration) -> Void = { _ in },
        logger: Logger? = nil
    ) async throws -> TestCluster {
        let logger = logger ?? {
            var logger = Logger(label: "test")
            logger.logLevel = ProcessInfo.processInfo.environment["MERIDIAN_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
            return logger
        }()
        let prefix = name.filter { $0.isLetter }.prefix(12)
        let nodeClock = clock.map { AnyClock($0) } ?? .continuous
        func configuration(node: String, seeds: [String]) -> ClusterSystem.Configuration {
            var configuration = Self.configuration(node: node, seeds: seeds)
            configuration.clock = nodeClock
            configure(&configuration)
            return configuration
        }
        let first = try await ClusterSystem.start(configuration(node: "\(prefix)-1", seeds: []), logger: logger)
        var systems = [first]
        for index in 2...max(2, count) where index <= count {
            systems.append(try await ClusterSystem.start(configuration(node: "\(prefix)-\(index)", seeds: [first.address]), logger: logger))
        }
        let cluster = TestCluster(systems: systems)
        do {
            for system in systems {
                try await system.membership.waitUntil(timeout: .seconds(20)) { members in
                    members.filter { $0.status == .up }.count == count
                }
            }
        } catch {
            await cluster.shutdown()
            throw error
        }
        return cluster
    }

    func shutdown() async {
        for system in systems { await system.shutdown() }
    }
}

struct CalculatorError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "calculator refused: \(reason)" }
}

/// The actor every cluster test calls.
distributed actor Calculator: WireCodable {
    typealias ActorSystem = ClusterSystem

    private let cancellations = Counter()
    private let slowCallsStarted = Counter()

    distributed func add(_ a: Int, _ b: Int) -> Int { a + b }

    distributed func describe(_ name: String, _ values: [Int], _ note: String?, _ weights: [String: Double]) -> String {
        "\(name):\(values.reduce(0, +)):\(note ?? "none"):\(weights.keys.sorted().joined(separator: ","))"
    }

    distributed func divide(_ a: Int, by b: Int) throws -> Int {
        guard b != 0 else { throw CalculatorError(reason: "division by zero") }
        return a / b
    }

    /// Sleeps; counts the calls that started and the cancellations it observes.
    distributed func slow(milliseconds: Int) async throws -> Int {
        slowCallsStarted.increment()
        do {
            try await Task.sleep(for: .milliseconds(milliseconds))
        } catch {
            cancellations.increment()
            throw error
        }
        return milliseconds
    }

    distributed func cancellationsObserved() -> Int { cancellations.value }

    distributed func slowCallsReceived() -> Int { slowCallsStarted.value }

    /// Calls another calculator, passed by reference.
    distributed func addThrough(_ other: Calculator, _ a: Int, _ b: Int) async throws -> Int {
        try await other.add(a, b)
    }

    distributed func node() -> String { actorSystem.nodeID }
}

final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.wrappingAdd(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
