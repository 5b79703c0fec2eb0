import MeridianClock
import MeridianNode
import Synchronization
import Testing

/// The limit on how long a node declared down waits for its parts to stop, stepped on a
/// manual clock.
@Suite("Stuck stop watch")
struct StuckStopWatchTests {
    /// How many times a handler ran.
    final class Count: Sendable {
        private let value = Mutex(0)
        func increment() { value.withLock { $0 += 1 } }
        func callAsFunction() -> Int { value.withLock { $0 } }
    }

    /// A watch on a manual clock, and a stream that yields once per run of its handler.
    static func watch(limit: Duration) -> (ManualClock, StuckStopWatch, AsyncStream<Void>, Count) {
        let clock = ManualClock()
        let watch = StuckStopWatch(limit: limit, clock: AnyClock(clock))
        let (fired, fire) = AsyncStream.makeStream(of: Void.self)
        let count = Count()
        watch.onExpiry {
            count.increment()
            fire.yield()
        }
        return (clock, watch, fired, count)
    }

    @Test func theHandlerRunsOnceTheLimitRunsOutAndNotBefore() async throws {
        let (clock, watch, fired, count) = Self.watch(limit: .seconds(30))
        watch.start()
        await clock.waitUntilSleeping { $0 == [.init(offset: .seconds(30))] }
        clock.advance(by: .seconds(29))
        // Still asleep: its deadline is not reached, so nothing could have run the handler.
        #expect(clock.pendingDeadlines == [.init(offset: .seconds(30))])
        #expect(!watch.expired)
        #expect(count() == 0)
        clock.advance(by: .seconds(1))
        var events = fired.makeAsyncIterator()
        _ = await events.next()
        #expect(watch.expired)
        watch.start()  // once only: a second verdict does not count again
        watch.cancel()  // too late to matter
        #expect(clock.pendingDeadlines.isEmpty)
        #expect(watch.expired)
        #expect(count() == 1)
    }

    @Test func aStopThatFinishesInTimeCancelsTheCountdown() async throws {
        let (clock, watch, _, count) = Self.watch(limit: .seconds(30))
        watch.start()
        await clock.waitUntilSleeping { !$0.isEmpty }
        watch.cancel()
        await clock.waitUntilSleeping { $0.isEmpty }
        clock.advance(by: .seconds(60))
        #expect(!watch.expired)
        #expect(count() == 0)
    }

    @Test func withoutAVerdictNothingCountsDown() async throws {
        let (clock, watch, _, count) = Self.watch(limit: .seconds(30))
        clock.advance(by: .seconds(60))
        #expect(clock.pendingDeadlines.isEmpty)
        watch.cancel()  // the node stopped on purpose
        watch.start()  // a verdict after the stop starts nothing
        #expect(clock.pendingDeadlines.isEmpty)
        #expect(!watch.expired)
        #expect(count() == 0)
    }

    @Test func aZeroLimitExpiresWithinStart() {
        let (_, watch, _, count) = Self.watch(limit: .zero)
        watch.start()
        #expect(watch.expired)
        #expect(count() == 1)
    }

    @Test func aHandlerSetAfterTheLimitRanOutRunsAtOnce() {
        let watch = StuckStopWatch(limit: .zero, clock: AnyClock(ManualClock()))
        watch.start()
        let count = Count()
        watch.onExpiry { count.increment() }
        #expect(count() == 1)
    }
}
