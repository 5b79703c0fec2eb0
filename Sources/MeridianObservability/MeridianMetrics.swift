import CoreMetrics
import Logging
import Prometheus
import Synchronization

/// The process's metrics: one Prometheus registry behind every swift-metrics `Counter`, `Timer`,
/// `Gauge`, `Meter` and `Recorder` made in this process, served at `/metrics` by the node's admin
/// HTTP (`MeridianAdmin.AdminServer`).
///
/// ```swift
/// let registry = MeridianMetrics.bootstrap(logger: logger)   // before the node creates its metrics
/// let admin = try await AdminServer.start(configuration, registry: registry, audit: audit, logger: logger)
/// ```
///
/// Code that records metrics only uses the swift-metrics API (`import Metrics`) and names its metrics
/// `meridian_…` with small, bounded label sets (never a player or match id). Until ``bootstrap(logger:)``
/// runs, swift-metrics hands out no-op metrics, and a metric object keeps the factory it was made with:
/// make metric objects when the node starts (or per use), not in a `static let` read before the bootstrap.
package enum MeridianMetrics {
    private static let bootstrapped = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Makes a Prometheus registry the swift-metrics factory of this process; returns that registry.
    ///
    /// `MetricsSystem.bootstrap` may run only once per process: the first call does it, later calls
    /// return the same registry. Nothing else in the process may call `MetricsSystem.bootstrap`.
    @discardableResult
    package static func bootstrap(logger: Logger) -> PrometheusCollectorRegistry {
        bootstrapped.withLock { existing in
            if let existing { return existing }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(makeFactory(registry: registry, logger: logger))
            existing = registry
            return registry
        }
    }

    /// The registry ``bootstrap(logger:)`` installed, if it ran.
    package static var registry: PrometheusCollectorRegistry? {
        bootstrapped.withLock { $0 }
    }

    /// A factory recording into `registry`, with histogram buckets fitted to Meridian's metrics.
    /// Tests use it with swift-metrics' `withMetricsFactory` instead of the process-wide bootstrap.
    package static func makeFactory(registry: PrometheusCollectorRegistry, logger: Logger) -> any MetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Buckets.defaultDurations
        factory.durationHistogramBuckets = Buckets.durations
        factory.valueHistogramBuckets = Buckets.values
        return ConsistentMetricsFactory(underlying: factory, logger: logger)
    }

    /// Histogram buckets. A family's buckets are fixed by its first metric; change them here, not per call.
    enum Buckets {
        /// Timers without their own buckets (e.g. the gateway's latencies): 100 µs to 10 s.
        static let defaultDurations: [Duration] = [
            .microseconds(100), .microseconds(250), .microseconds(500),
            .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]

        static let durations: [String: [Duration]] = [
            // A tick has 33 ms at 30 Hz and 16.7 ms at 60 Hz; most take well under a millisecond.
            "meridian_tick_seconds": [
                .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
                .milliseconds(1), .milliseconds(2), .milliseconds(4), .milliseconds(8),
                .milliseconds(16), .milliseconds(33), .milliseconds(66), .milliseconds(100),
            ],
            // Same region: sub-millisecond; across regions: the link's round trip; the default deadline: seconds.
            "meridian_remote_call_seconds": [
                .microseconds(100), .microseconds(250), .microseconds(500),
                .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            ],
            "meridian_ledger_commit_seconds": [
                .microseconds(100), .microseconds(250), .microseconds(500),
                .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            ],
            // Matchmaking waits are seconds to minutes (the skill window widens with the wait).
            "meridian_time_to_match_seconds": [
                .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
                .seconds(20), .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600),
            ],
        ]

        static let values: [String: [Double]] = [
            // LedgerWriter.Configuration.maximumBatchSize defaults to 256.
            "meridian_ledger_batch_size": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
        ]
    }
}

/// Keeps one metric name to one kind and one labelled-or-not shape.
///
/// The Prometheus registry stops the process (`fatalError`) when a name is reused as another type
/// (a `Counter` and a `Timer` both called `x`), or with and without labels. A metric recorded wrong
/// must not take a node down: such a metric is logged once and gets a no-op handler instead.
final class ConsistentMetricsFactory: MetricsFactory {
    private enum Kind: String {
        case counter, gauge, histogram, durationHistogram = "timer"
    }

    private struct Shape: Equatable {
        var kind: Kind
        var labelled: Bool
    }

    private let underlying: PrometheusMetricsFactory
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var shapes: [String: Shape] = [:]
        var reported: Set<String> = []
    }

    init(underlying: PrometheusMetricsFactory, logger: Logger) {
        self.underlying = underlying
        self.logger = logger
    }

    /// Whether `label` may be made as `kind` with `dimensions`; records the first shape of each name.
    /// (Other label names under one name are legal for the registry, if unwise; they pass.)
    private func admits(_ label: String, _ kind: Kind, _ dimensions: [(String, String)]) -> Bool {
        let shape = Shape(kind: kind, labelled: !dimensions.isEmpty)
        let (existing, firstClash): (Shape?, Bool) = state.withLock { state in
            guard let existing = state.shapes[label] else {
                state.shapes[label] = shape
                return (nil, false)
            }
            guard existing != shape else { return (existing, false) }
            return (existing, state.reported.insert(label).inserted)
        }
        guard let existing, existing != shape else { return true }
        if firstClash {
            logger.error("metric dropped: its name is already used by a metric of another type, or with(out) labels", metadata: [
                "meridian.metric": "\(label)",
                "meridian.metric.existing": "\(existing.kind.rawValue)\(existing.labelled ? " with labels" : "")",
                "meridian.metric.new": "\(kind.rawValue)\(shape.labelled ? " with labels" : "")",
            ])
        }
        return false
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard admits(label, .counter, dimensions) else { return NOOPMetricsHandler.instance }
        return underlying.makeCounter(label: label, dimensions: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        guard admits(label, .counter, dimensions) else { return NOOPMetricsHandler.instance }
        return underlying.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard admits(label, aggregate ? .histogram : .gauge, dimensions) else { return NOOPMetricsHandler.instance }
        return underlying.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        guard admits(label, .gauge, dimensions) else { return NOOPMetricsHandler.instance }
        return underlying.makeMeter(label: label, dimensions: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard admits(label, .durationHistogram, dimensions) else { return NOOPMetricsHandler.instance }
        return underlying.makeTimer(label: label, dimensions: dimensions)
    }

    // A destroyed metric leaves its shape recorded: a name keeps one meaning for the life of the process.
    func destroyCounter(_ handler: any CounterHandler) { underlying.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { underlying.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { underlying.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { underlying.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { underlying.destroyTimer(handler) }
}
