import Foundation
import Synchronization

/// Named points where a test can make this process die on purpose, to prove that nothing is
/// lost when a node is killed at the worst moment. Off unless `MERIDIAN_FAULT` names a point
/// (e.g. `MERIDIAN_FAULT=kill-after-trade-out`); never set in production. With
/// `MERIDIAN_FAULT_ACTION=stop` the process stops itself there instead (SIGSTOP: a pause, as a
/// long GC or VM stall would be) and goes on where it was when it gets SIGCONT — once: a retry
/// that reaches the point again after the pause passes.
public struct FaultInjection: Sendable {
    /// A named point; each module declares its own (``afterTradeOut``, the transfer steps, …).
    public struct Point: RawRepresentable, Hashable, Sendable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
    }

    private let armed: Point?
    private let pauses: Bool
    /// The points this process already paused at (each pauses once per process).
    private static let pausedAt = Mutex<Set<String>>([])

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        armed = environment["MERIDIAN_FAULT"].map(Point.init(rawValue:))
        pauses = environment["MERIDIAN_FAULT_ACTION"] == "stop"
    }

    /// Kills this process with SIGKILL (no clean-up, as `kill -9` would) if `point` is armed, or
    /// stops it with SIGSTOP when the action is `stop`.
    public func reached(_ point: Point) {
        guard armed == point else { return }
        if pauses {
            guard Self.pausedAt.withLock({ $0.insert(point.rawValue).inserted }) else { return }
            FileHandle.standardError.write(Data("MERIDIAN_FAULT: stopping this process at \(point.rawValue)\n".utf8))
            kill(getpid(), SIGSTOP)
            return
        }
        FileHandle.standardError.write(Data("MERIDIAN_FAULT: killing this process at \(point.rawValue)\n".utf8))
        kill(getpid(), SIGKILL)
    }
}

extension FaultInjection.Point {
    /// The giver's leg of a trade has committed; the receiver's has not been sent.
    public static let afterTradeOut = Self(rawValue: "kill-after-trade-out")
}
