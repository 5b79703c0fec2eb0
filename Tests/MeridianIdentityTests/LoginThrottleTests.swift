import Foundation
import MeridianClock
import Testing
@testable import MeridianIdentity

@Suite("Login attempt limits")
struct LoginThrottleTests {
    typealias Throttle = LoginThrottle<AnyClock.Instant>
    static let limits = Throttle.Limits(maximumFailures: 3, window: .seconds(60), lockout: .seconds(300))

    @Test func anAccountLocksAfterItsFailuresAndUnlocksAfterTheLockout() {
        var throttle = Throttle(perAccount: Self.limits, perSource: .init(maximumFailures: 100, window: .seconds(60), lockout: .seconds(1)))
        let start = AnyClock.Instant(offset: .seconds(1000))
        #expect(throttle.retryAfter(account: "a", source: "1.1.1.1", now: start) == nil)
        throttle.failed(account: "a", source: "1.1.1.1", now: start)
        throttle.failed(account: "a", source: "2.2.2.2", now: start.advanced(by: .seconds(1)))
        #expect(throttle.retryAfter(account: "a", source: "3.3.3.3", now: start.advanced(by: .seconds(2))) == nil)
        throttle.failed(account: "a", source: "3.3.3.3", now: start.advanced(by: .seconds(2)))
        // Locked from any address, for the lockout.
        #expect(throttle.retryAfter(account: "a", source: "9.9.9.9", now: start.advanced(by: .seconds(2))) == .seconds(300))
        #expect(throttle.retryAfter(account: "a", source: "9.9.9.9", now: start.advanced(by: .seconds(302))) == nil)
        // Other accounts are not affected.
        #expect(throttle.retryAfter(account: "b", source: "1.1.1.1", now: start.advanced(by: .seconds(3))) == nil)
    }

    @Test func failuresOutsideTheWindowDoNotCount() {
        var throttle = Throttle(perAccount: Self.limits, perSource: Self.limits)
        let start = AnyClock.Instant(offset: .zero)
        for minute in 0..<10 {
            throttle.failed(account: "a", source: "s\(minute)", now: start.advanced(by: .seconds(Int64(minute) * 61)))
        }
        #expect(throttle.retryAfter(account: "a", source: "new", now: start.advanced(by: .seconds(700))) == nil)
    }

    @Test func oneAddressTryingManyAccountsIsLockedOut() {
        var throttle = Throttle(perAccount: Self.limits, perSource: Self.limits)
        let now = AnyClock.Instant(offset: .zero)
        for account in ["a", "b", "c"] { throttle.failed(account: account, source: "1.1.1.1", now: now) }
        #expect(throttle.retryAfter(account: "d", source: "1.1.1.1", now: now) == .seconds(300))
        #expect(throttle.retryAfter(account: "d", source: "2.2.2.2", now: now) == nil)
        // A success clears the account, not the address.
        throttle.succeeded(account: "d")
        #expect(throttle.retryAfter(account: "d", source: "1.1.1.1", now: now) == .seconds(300))
    }

    @Test func aFloodOfKeysStaysBounded() {
        var throttle = Throttle(perAccount: Self.limits, perSource: Self.limits, maximumKeys: 100)
        let now = AnyClock.Instant(offset: .zero)
        for index in 0..<1000 { throttle.failed(account: "a\(index)", source: "s\(index)", now: now) }
        #expect(throttle.recordCount <= 200)
    }
}

@Suite("Password hashes")
struct PasswordHasherTests {
    @Test func aHashVerifiesOnlyItsPassword() async throws {
        let hasher = PasswordHasher(parameters: .testing)
        let hash = try await hasher.hash("correct horse battery")
        #expect(hash.hasPrefix("scrypt$10$8$1$"))
        #expect(try await hasher.verify("correct horse battery", against: hash))
        #expect(try await !hasher.verify("correct horse batterY", against: hash))
        #expect(try await hasher.hash("correct horse battery") != hash)  // a fresh salt each time
        for broken in ["", "scrypt$10$8$1$", "bcrypt$x", "scrypt$99$8$1$AAAA$AAAA", String(hash.dropLast(4))] {
            #expect(try await !hasher.verify("correct horse battery", against: broken), "\(broken)")
        }
    }
}
