import MeridianClock
import Testing

@Suite("Manual clock")
struct ManualClockTests {
    @Test func aSleeperWakesWhenTimeReachesItsDeadlineAndNotBefore() async throws {
        let clock = ManualClock()
        let deadline = clock.now.advanced(by: .seconds(10))
        let sleeper = Task { try await clock.sleep(until: deadline) }
        await clock.waitUntilSleeping { $0 == [deadline] }
        clock.advance(by: .seconds(10) - .nanoseconds(1))
        #expect(clock.pendingDeadlines == [deadline], "still asleep one nanosecond short")
        clock.advance(by: .nanoseconds(1))
        try await sleeper.value
        #expect(clock.pendingDeadlines.isEmpty)
        #expect(clock.now == deadline)
    }

    @Test func aDeadlineAlreadyReachedReturnsAtOnce() async throws {
        let clock = ManualClock()
        clock.advance(by: .seconds(5))
        try await clock.sleep(until: clock.now.advanced(by: .seconds(-1)))
        try await clock.sleep(for: .zero)
        #expect(clock.pendingDeadlines.isEmpty)
    }

    @Test func oneStepWakesEverySleeperItPasses() async throws {
        let clock = ManualClock()
        let sleepers = (1...3).map { seconds in
            Task { try await clock.sleep(for: .seconds(seconds)) }
        }
        await clock.waitUntilSleeping { $0.count == 3 }
        clock.advance(by: .seconds(2))
        try await sleepers[0].value
        try await sleepers[1].value
        #expect(clock.pendingDeadlines == [.init(offset: .seconds(3))])
        clock.advance(to: .init(offset: .seconds(1)))  // time does not go back
        #expect(clock.now == .init(offset: .seconds(2)))
        clock.advance(by: .seconds(1))
        try await sleepers[2].value
    }

    @Test func aCancelledSleeperThrowsAndLeaves() async {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(1)) }
        await clock.waitUntilSleeping { !$0.isEmpty }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        await clock.waitUntilSleeping { $0.isEmpty }
    }

    @Test func anyClockKeepsTheWrappedClocksTime() async throws {
        let manual = ManualClock()
        manual.advance(by: .seconds(7))
        let clock = AnyClock(manual)
        #expect(clock.now == .init(offset: .zero), "instants count from the wrapping")
        let sleeper = Task { try await clock.sleep(for: .seconds(2)) }
        await manual.waitUntilSleeping { $0 == [.init(offset: .seconds(9))] }
        manual.advance(by: .seconds(2))
        try await sleeper.value
        #expect(clock.now.offset == .seconds(2))
    }
}
