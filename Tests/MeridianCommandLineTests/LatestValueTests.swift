import MeridianClock
import MeridianCommandLine
import Testing

@Suite("Latest value")
struct LatestValueTests {
    @Test func aWaiterWakesOnTheFirstValueThatSatisfiesIt() async {
        let latest = LatestValue<Int>()
        let clock = ManualClock()
        let waiter = Task { await latest.wait(until: clock.now.advanced(by: .seconds(60)), clock: clock) { $0 >= 1_000 } }
        // Published from another task while the waiter checks and registers: none may be missed,
        // and none short of 1,000 may end the wait (it returns early only at its deadline or end).
        let producer = Task { for value in 1...1_000 { latest.publish(value) } }
        await producer.value
        #expect(await waiter.value == 1_000)
        #expect(clock.pendingDeadlines.isEmpty, "the deadline's sleep was cancelled")
    }

    @Test func aValueAlreadyNewestThatSatisfiesReturnsAtOnce() async {
        let latest = LatestValue<String>()
        latest.publish("ready")
        let clock = ManualClock()
        let value = await latest.wait(until: clock.now, clock: clock) { $0 == "ready" }
        #expect(value == "ready")
        #expect(latest.value == "ready")
    }

    @Test func theDeadlineEndsTheWaitWithTheNewestValue() async {
        let latest = LatestValue<Int>()
        latest.publish(1)
        let clock = ManualClock()
        let deadline = clock.now.advanced(by: .seconds(10))
        let waiter = Task { await latest.wait(until: deadline, clock: clock) { $0 > 5 } }
        await clock.waitUntilSleeping { $0 == [deadline] }
        latest.publish(2)  // wakes it, and does not satisfy it
        clock.advance(by: .seconds(10))
        #expect(await waiter.value == 2)
    }

    @Test func theEndOfTheSeriesEndsEveryWait() async {
        let latest = LatestValue<Int>()
        let (valueWaiter, endWaiter) = await Self.waiters(on: latest)
        latest.publish(3)
        latest.end()
        #expect(await valueWaiter.value == 3)
        await endWaiter.value
        #expect(latest.hasEnded)
        await latest.waitForEnd()  // already ended: returns at once
    }

    @Test func aCancelledWaiterStopsWaiting() async {
        let latest = LatestValue<Int>()
        let (valueWaiter, endWaiter) = await Self.waiters(on: latest)
        valueWaiter.cancel()
        endWaiter.cancel()
        #expect(await valueWaiter.value == nil)
        await endWaiter.value
        #expect(!latest.hasEnded)
    }

    /// A task waiting for a value over 5 (its deadline 10 s away on a clock nobody moves) and
    /// one waiting for the end; returns once the first is asleep until its deadline.
    private static func waiters(on latest: LatestValue<Int>) async -> (value: Task<Int?, Never>, end: Task<Void, Never>) {
        let clock = ManualClock()
        let deadline = clock.now.advanced(by: .seconds(10))
        let valueWaiter = Task { await latest.wait(until: deadline, clock: clock) { $0 > 5 } }
        let endWaiter = Task { await latest.waitForEnd() }
        await clock.waitUntilSleeping { $0 == [deadline] }
        return (valueWaiter, endWaiter)
    }
}
