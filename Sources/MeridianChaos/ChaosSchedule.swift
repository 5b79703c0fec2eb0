import MeridianSimulation

/// The faults of a chaos run, drawn from a seed: the same seed, nodes, kinds and duration
/// always give the same schedule, so a run that found a counterexample can be replayed.
///
/// Faults run one after another with a quiet gap between them (so that each one's effect can
/// be told apart in the logs), from `warmUp` until `duration`; every fault has healed by
/// `duration`. A pause lasts longer than the failure detector's bound half of the time, so
/// that both "a short stall the cluster rides out" and "a stall after which the node learns it
/// was declared down and rejoins" happen.
public struct ChaosSchedule: Sendable, Equatable {
    public struct Node: Sendable, Hashable {
        public var id: String
        public var region: String
        public init(id: String, region: String) {
            self.id = id
            self.region = region
        }
    }

    public struct Settings: Sendable {
        public var seed: UInt64
        /// Milliseconds of the faulty phase.
        public var durationMilliseconds: Int
        public var kinds: Set<ChaosFaultKind>
        /// The failure detector's bound (crash to `down`) of the cluster, in milliseconds.
        public var detectionBoundMilliseconds: Int
        /// Milliseconds before the first fault, for the workload to start. Default 10 s.
        public var warmUpMilliseconds = 10_000
        /// Quiet time between two faults, drawn in this range. Default 2–6 s.
        public var gapMilliseconds = 2_000...6_000

        public init(seed: UInt64, durationMilliseconds: Int, kinds: Set<ChaosFaultKind>, detectionBoundMilliseconds: Int) {
            self.seed = seed
            self.durationMilliseconds = durationMilliseconds
            self.kinds = kinds
            self.detectionBoundMilliseconds = detectionBoundMilliseconds
        }
    }

    public var faults: [ChaosFault]

    public init(faults: [ChaosFault]) {
        self.faults = faults
    }

    public init(_ settings: Settings, nodes: [Node]) {
        var random = SplitMix64(seed: settings.seed)
        let kinds = settings.kinds.sorted()
        let regions = Array(Set(nodes.map(\.region))).sorted()
        let sortedNodes = nodes.sorted { $0.id < $1.id }
        var faults: [ChaosFault] = []
        var now = settings.warmUpMilliseconds
        guard !kinds.isEmpty, !sortedNodes.isEmpty else {
            self.faults = []
            return
        }
        while true {
            let kind = kinds[Int(random.next(below: UInt32(kinds.count)))]
            let bound = settings.detectionBoundMilliseconds
            let node = sortedNodes[Int(random.next(below: UInt32(sortedNodes.count)))]
            let (action, length): (ChaosFault.Action, Int)
            switch kind {
            case .kill:
                (action, length) = (.kill(node: node.id), Self.draw(2_000...6_000, &random))
            case .pause:
                // Half below the bound (ridden out), half well past it (declared down, rejoins).
                let long = random.next(below: 2) == 1
                let range = long ? (bound * 3 / 2)...(bound * 5 / 2) : (bound / 4)...(bound * 3 / 4)
                (action, length) = (.pause(node: node.id), Self.draw(range, &random))
            case .partition:
                let sameRegion = sortedNodes.filter { $0.region == node.region && $0.id != node.id }
                if regions.count < 2 || (!sameRegion.isEmpty && random.next(below: 2) == 1) {
                    guard let other = sameRegion.isEmpty ? nil : sameRegion[Int(random.next(below: UInt32(sameRegion.count)))] else { continue }
                    (action, length) = (.partitionNodes(node.id, other.id), Self.draw(3_000...max(3_000, bound * 3), &random))
                } else {
                    let others = regions.filter { $0 != node.region }
                    let other = others[Int(random.next(below: UInt32(others.count)))]
                    (action, length) = (.partitionRegions(node.region, other), Self.draw(3_000...max(3_000, bound * 3), &random))
                }
            case .slow:
                (action, length) = (.slow(node: node.id, extraDelayMilliseconds: Self.draw(50...400, &random)), Self.draw(5_000...15_000, &random))
            }
            guard now + length <= settings.durationMilliseconds else { break }
            faults.append(ChaosFault(startMilliseconds: now, lengthMilliseconds: length, action: action))
            now += length + Self.draw(settings.gapMilliseconds, &random)
        }
        self.faults = faults
    }

    /// How many faults of each kind.
    public var counts: [ChaosFaultKind: Int] {
        faults.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 }
    }

    private static func draw(_ range: ClosedRange<Int>, _ random: inout SplitMix64) -> Int {
        let span = max(0, range.upperBound - range.lowerBound)
        return range.lowerBound + Int(random.next() % UInt64(span + 1))
    }
}
