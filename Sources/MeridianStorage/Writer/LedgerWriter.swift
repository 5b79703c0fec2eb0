import Foundation
import DequeModule
import Logging
import Metrics

/// Group commit for the ledger: batches appends from many players into one transaction per batch.
///
/// A batch is flushed when it holds ``Configuration/maximumBatchSize`` commands, or
/// ``Configuration/maximumDelay`` after its first command arrived, whichever comes first, and only
/// while no other batch of the same lane is in flight (so the next batch fills while one commits).
/// Players are hashed to lanes; a lane runs its batches one after another and keeps arrival order
/// inside each batch, so every player's appends are applied in the order they were submitted.
/// Each caller gets its own receipt or its own refusal: one player's refused append does not fail
/// the others of its batch. Only a failed transaction fails the whole batch (nothing was written).
///
/// A submitted command cannot be cancelled: it may already be committing.
public actor LedgerWriter {
    /// Batching settings.
    public struct Configuration: Sendable {
        /// Most commands in one transaction. Default 256.
        public var maximumBatchSize: Int = 256
        /// Longest wait after a batch's first command before it is flushed. Default 200 µs: long
        /// enough for concurrent writers to join, short against a commit's own latency. Zero flushes
        /// as soon as the lane is idle (batches then form only while a transaction is in flight).
        public var maximumDelay: Duration = .microseconds(200)
        /// Independent lanes, each with at most one transaction in flight. Default 1: right for
        /// SQLite (one writer), and on a 2-core box also best for PostgreSQL (full batches beat
        /// parallel half-batches); more lanes pay off when the database has cores to spare.
        public var lanes: Int = 1

        public init(maximumBatchSize: Int = 256, maximumDelay: Duration = .microseconds(200), lanes: Int = 1) {
            self.maximumBatchSize = maximumBatchSize
            self.maximumDelay = maximumDelay
            self.lanes = lanes
        }
    }

    /// Counters since the writer started.
    public struct Statistics: Hashable, Sendable {
        public var batches = 0
        public var commands = 0
        /// Batches whose transaction failed as a whole.
        public var failedBatches = 0
    }

    private struct Pending {
        var command: LedgerCommand
        var arrived: ContinuousClock.Instant
        /// Called once, on the actor, with the command's result.
        var deliver: (Result<LedgerReceipt, StorageError>) -> Void
    }

    private struct Lane {
        var pending = Deque<Pending>()
        var inFlight = false
        var timerArmed = false
    }

    private let store: any RegionStore
    private let configuration: Configuration
    private let logger: Logger
    private var lanes: [Lane]
    private let clock = ContinuousClock()
    public private(set) var statistics = Statistics()
    private let metrics = WriterMetrics()

    /// The writer's metrics, made with it (so with the factory bootstrapped before the node started).
    private struct WriterMetrics {
        /// `meridian_ledger_appends_total{outcome}`: commands applied (`committed`), refused on their
        /// own (`refused`: fencing, balance, idempotency…), or lost with their whole batch (`failed`).
        let committed = Counter(label: "meridian_ledger_appends_total", dimensions: [("outcome", "committed")])
        let refused = Counter(label: "meridian_ledger_appends_total", dimensions: [("outcome", "refused")])
        let failed = Counter(label: "meridian_ledger_appends_total", dimensions: [("outcome", "failed")])
        /// `meridian_ledger_batch_size`: commands per transaction.
        let batchSize = Recorder(label: "meridian_ledger_batch_size")
        /// `meridian_ledger_commit_seconds`: one batch's transaction, successful or not.
        let commit = Metrics.Timer(label: "meridian_ledger_commit_seconds")
    }

    public init(store: any RegionStore, configuration: Configuration = .init(), logger: Logger) {
        var configuration = configuration
        configuration.maximumBatchSize = max(1, configuration.maximumBatchSize)
        configuration.lanes = max(1, configuration.lanes)
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.lanes = Array(repeating: Lane(), count: configuration.lanes)
    }

    /// Appends a grant, consume or purchase with group commit.
    public func append(_ append: LedgerAppend) async throws(StorageError) -> LedgerReceipt {
        try await submit(.append(append))
    }

    /// Submits any ledger command with group commit and waits for its own result.
    public func submit(_ command: LedgerCommand) async throws(StorageError) -> LedgerReceipt {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<LedgerReceipt, StorageError>, Never>) in
            enqueue(command) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Submits `commands` together, in this order (so one player's commands are applied in it), and
    /// waits for all their results, one per command.
    public func submit(_ commands: [LedgerCommand]) async -> [Result<LedgerReceipt, StorageError>] {
        guard !commands.isEmpty else { return [] }
        return await withCheckedContinuation { (continuation: CheckedContinuation<[Result<LedgerReceipt, StorageError>], Never>) in
            let collector = ResultCollector(count: commands.count, continuation: continuation)
            for (index, command) in commands.enumerated() {
                enqueue(command) { collector.set(index, $0) }
            }
        }
    }

    private func enqueue(_ command: LedgerCommand, deliver: @escaping (Result<LedgerReceipt, StorageError>) -> Void) {
        let lane = laneIndex(command)
        lanes[lane].pending.append(Pending(command: command, arrived: clock.now, deliver: deliver))
        schedule(lane)
    }

    private func laneIndex(_ command: LedgerCommand) -> Int {
        guard lanes.count > 1 else { return 0 }
        // A refund names only its trade: any lane will do, there is no per-player order to keep with it.
        let hash = switch command {
        case .tradeRefund(let id): id.hashValue
        default: command.player?.hashValue ?? 0
        }
        return Int(UInt(bitPattern: hash) % UInt(lanes.count))
    }

    /// Flushes the lane if it is idle and its batch is full or due; otherwise arms its timer.
    private func schedule(_ lane: Int) {
        guard !lanes[lane].inFlight, let first = lanes[lane].pending.first else { return }
        let deadline = first.arrived.advanced(by: configuration.maximumDelay)
        if lanes[lane].pending.count >= configuration.maximumBatchSize || clock.now >= deadline {
            flush(lane)
        } else if !lanes[lane].timerArmed {
            lanes[lane].timerArmed = true
            Task {
                try? await Task.sleep(until: deadline, clock: ContinuousClock())
                self.timerFired(lane)
            }
        }
    }

    private func timerFired(_ lane: Int) {
        lanes[lane].timerArmed = false
        schedule(lane)
    }

    private func flush(_ lane: Int) {
        let count = min(configuration.maximumBatchSize, lanes[lane].pending.count)
        let batch = Array(lanes[lane].pending.prefix(count))
        lanes[lane].pending.removeFirst(count)
        lanes[lane].inFlight = true
        Task { await self.run(batch, lane: lane) }
    }

    private func run(_ batch: [Pending], lane: Int) async {
        let outcome: Result<[Result<LedgerReceipt, StorageError>], StorageError>
        metrics.batchSize.record(batch.count)
        let started = clock.now
        do throws(StorageError) {
            outcome = .success(try await store.applyLedger(batch.map(\.command)))
        } catch {
            outcome = .failure(error)
        }
        metrics.commit.record(duration: clock.now - started)
        statistics.batches += 1
        statistics.commands += batch.count
        switch outcome {
        case .success(let results) where results.count == batch.count:
            let refused = results.count(where: { if case .failure = $0 { true } else { false } })
            metrics.committed.increment(by: results.count - refused)
            metrics.refused.increment(by: refused)
            for (pending, result) in zip(batch, results) { pending.deliver(result) }
        case .success(let results):
            statistics.failedBatches += 1
            let error = StorageError(.backend, "the store returned \(results.count) results for \(batch.count) ledger commands")
            metrics.failed.increment(by: batch.count)
            for pending in batch { pending.deliver(.failure(error)) }
        case .failure(let error):
            statistics.failedBatches += 1
            logger.warning("ledger batch failed", metadata: ["meridian.ledger.batch": "\(batch.count)", "meridian.error": "\(error.codeName)"])
            metrics.failed.increment(by: batch.count)
            for pending in batch { pending.deliver(.failure(error)) }
        }
        lanes[lane].inFlight = false
        schedule(lane)
    }
}

/// Gathers the results of commands submitted together; lives on the writer's actor.
private final class ResultCollector {
    private var results: [Result<LedgerReceipt, StorageError>?]
    private var remaining: Int
    private let continuation: CheckedContinuation<[Result<LedgerReceipt, StorageError>], Never>

    init(count: Int, continuation: CheckedContinuation<[Result<LedgerReceipt, StorageError>], Never>) {
        self.results = Array(repeating: nil, count: count)
        self.remaining = count
        self.continuation = continuation
    }

    func set(_ index: Int, _ result: Result<LedgerReceipt, StorageError>) {
        guard results[index] == nil else { return }
        results[index] = result
        remaining -= 1
        if remaining == 0 {
            continuation.resume(returning: results.map { $0 ?? .failure(StorageError(.backend, "a ledger command got no result")) })
        }
    }
}
