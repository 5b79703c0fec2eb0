import MeridianClock
import Testing

@testable import MeridianStorage

@Suite("Waiting for a task, with a deadline")
struct BoundedWaitTests {
    @Test func aTaskThatEndsFirstAnswersTrue() async {
        let clock = ManualClock()
        let task = Task<Void, Never> {}
        let ended = await waitForEnd(of: task, until: clock.now.advanced(by: .seconds(15)), clock: clock)
        #expect(ended)
    }

    @Test func theDeadlineAnswersFalseAndLeavesTheTaskRunning() async {
        let clock = ManualClock()
        let (never, finish) = AsyncStream<Void>.makeStream()
        let task = Task<Void, Never> { for await _ in never {} }
        let deadline = clock.now.advanced(by: .seconds(15))
        let waiter = Task { await waitForEnd(of: task, until: deadline, clock: clock) }
        await clock.waitUntilSleeping { $0 == [deadline] }
        clock.advance(by: .seconds(15) - .nanoseconds(1))
        #expect(clock.pendingDeadlines == [deadline], "not a nanosecond early")
        clock.advance(by: .nanoseconds(1))
        #expect(await waiter.value == false)
        #expect(!task.isCancelled, "the task goes on")
        finish.finish()
        await task.value
    }
}
