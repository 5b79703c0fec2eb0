/// The kinds of fault `meridian chaos` injects (`--faults kill,pause,partition,slow`).
public enum ChaosFaultKind: String, CaseIterable, Sendable, Codable, Comparable {
    /// SIGKILL a node's process, start it again after the fault's length.
    case kill
    /// SIGSTOP a node's process (a long GC or VM stall), SIGCONT after the fault's length.
    case pause
    /// Cut the links between two regions, or between two nodes of one region.
    case partition
    /// Add delay to every link of one node.
    case slow

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One fault of a chaos schedule: what happens, when it starts and how long it lasts (after
/// which it heals: the process restarts or resumes, the links come back).
public struct ChaosFault: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Action: Sendable, Hashable, Codable {
        case kill(node: String)
        case pause(node: String)
        /// Nothing passes between any node of one region and any node of the other.
        case partitionRegions(String, String)
        /// Nothing passes between two nodes (of one region: the node is cut off from its region).
        case partitionNodes(String, String)
        case slow(node: String, extraDelayMilliseconds: Int)
    }

    /// Milliseconds from the start of the run.
    public var startMilliseconds: Int
    public var lengthMilliseconds: Int
    public var action: Action

    public init(startMilliseconds: Int, lengthMilliseconds: Int, action: Action) {
        self.startMilliseconds = startMilliseconds
        self.lengthMilliseconds = lengthMilliseconds
        self.action = action
    }

    public var endMilliseconds: Int { startMilliseconds + lengthMilliseconds }

    public var kind: ChaosFaultKind {
        switch action {
        case .kill: .kill
        case .pause: .pause
        case .partitionRegions, .partitionNodes: .partition
        case .slow: .slow
        }
    }

    public var description: String {
        let what = switch action {
        case .kill(let node): "kill -9 \(node)"
        case .pause(let node): "SIGSTOP \(node)"
        case .partitionRegions(let a, let b): "partition regions \(a) | \(b)"
        case .partitionNodes(let a, let b): "partition nodes \(a) | \(b)"
        case .slow(let node, let delay): "slow links of \(node) +\(delay) ms"
        }
        return "t=\(Double(startMilliseconds) / 1000)s \(what) for \(Double(lengthMilliseconds) / 1000)s"
    }
}
