import Foundation

/// Named points where a test can make this process die on purpose, to prove that nothing is
/// lost when a node is killed at the worst moment. Off unless `MERIDIAN_FAULT` names a point
/// (e.g. `MERIDIAN_FAULT=kill-after-trade-out`); never set in production.
public struct FaultInjection: Sendable {
    /// A named point; each module declares its own (``afterTradeOut``, the transfer steps, …).
    public struct Point: RawRepresentable, Hashable, Sendable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
    }

    private let armed: Point?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        armed = environment["MERIDIAN_FAULT"].map(Point.init(rawValue:))
    }

    /// Kills this process with SIGKILL (no clean-up, as `kill -9` would) if `point` is armed.
    public func reached(_ point: Point) {
        guard armed == point else { return }
        FileHandle.standardError.write(Data("MERIDIAN_FAULT: killing this process at \(point.rawValue)\n".utf8))
        kill(getpid(), SIGKILL)
    }
}

extension FaultInjection.Point {
    /// The giver's leg of a trade has committed; the receiver's has not been sent.
    public static let afterTradeOut = Self(rawValue: "kill-after-trade-out")
}
