import MeridianChaos
import Testing

@Suite("Chaos schedule")
struct ChaosScheduleTests {
    private let nodes = ["eu-west-1", "eu-west-2", "us-east-1", "us-east-2", "ap-south-1", "ap-south-2"].map {
        ChaosSchedule.Node(id: $0, region: String($0.dropLast(2)))
    }

    private func settings(seed: UInt64, seconds: Int = 1200, kinds: Set<ChaosFaultKind> = Set(ChaosFaultKind.allCases)) -> ChaosSchedule.Settings {
        ChaosSchedule.Settings(seed: seed, durationMilliseconds: seconds * 1000, kinds: kinds, detectionBoundMilliseconds: 3_000)
    }

    @Test("the same seed gives the same schedule; another seed another one")
    func deterministic() {
        let first = ChaosSchedule(settings(seed: 7), nodes: nodes)
        #expect(first == ChaosSchedule(settings(seed: 7), nodes: nodes.reversed()))
        #expect(first != ChaosSchedule(settings(seed: 8), nodes: nodes))
    }

    @Test("faults run one at a time after the warm-up, and all have healed by the end", arguments: [1, 2, 3, 42] as [UInt64])
    func sequentialAndHealed(seed: UInt64) {
        let settings = settings(seed: seed, seconds: 600)
        let schedule = ChaosSchedule(settings, nodes: nodes)
        #expect(!schedule.faults.isEmpty)
        let firstStart = schedule.faults.first?.startMilliseconds ?? 0
        #expect(firstStart >= settings.warmUpMilliseconds)
        for (earlier, later) in zip(schedule.faults, schedule.faults.dropFirst()) {
            #expect(later.startMilliseconds - earlier.endMilliseconds >= settings.gapMilliseconds.lowerBound, "\(earlier) overlaps \(later)")
        }
        let lastEnd = schedule.faults.map(\.endMilliseconds).max() ?? 0
        #expect(lastEnd <= settings.durationMilliseconds)
    }

    @Test("only the asked kinds; a long run has each of them, and pauses both shorter and longer than the detection bound")
    func kinds() {
        let onlyKills = ChaosSchedule(settings(seed: 5, kinds: [.kill]), nodes: nodes)
        #expect(Set(onlyKills.faults.map(\.kind)) == [.kill])
        let all = ChaosSchedule(settings(seed: 5), nodes: nodes)
        #expect(Set(all.counts.keys) == Set(ChaosFaultKind.allCases))
        let pauses = all.faults.filter { $0.kind == .pause }.map(\.lengthMilliseconds)
        let shortest = pauses.min() ?? 0, longest = pauses.max() ?? 0
        #expect(shortest < 3_000 && longest > 3_000)
        // Partitions name real nodes and regions, never a node with itself.
        for fault in all.faults {
            switch fault.action {
            case .partitionNodes(let a, let b):
                #expect(a != b && a.dropLast(2) == b.dropLast(2), "\(fault)")
            case .partitionRegions(let a, let b):
                #expect(a != b, "\(fault)")
            default:
                break
            }
        }
    }

    @Test("no kinds or no nodes: no faults")
    func empty() {
        #expect(ChaosSchedule(settings(seed: 1, kinds: []), nodes: nodes).faults.isEmpty)
        #expect(ChaosSchedule(settings(seed: 1), nodes: []).faults.isEmpty)
    }
}

@Suite("Chaos ledger model")
struct ChaosLedgerModelTests {
    @Test("each key counts once; a lost answer followed by a replayed one is fine")
    func exactlyOnce() {
        var model = ChaosLedgerModel()
        model.acknowledged(key: "g1", player: "p", delta: 10, sequence: 1, replayed: false)
        model.acknowledged(key: "g1", player: "p", delta: 10, sequence: 1, replayed: true)
        model.acknowledged(key: "g2", player: "p", delta: 5, sequence: 2, replayed: true)  // the first answer was lost
        model.acknowledged(key: "c1", player: "p", delta: -3, sequence: 3, replayed: false)
        #expect(model.violations.isEmpty)
        #expect(model.expectedBalance(of: "p") == 12)
        #expect(model.differences(actual: ["p": 12]).isEmpty)
        #expect(model.differences(actual: ["p": 22]) == ["p holds 22, but its acknowledged grants and consumes add up to 12"])
    }

    @Test("a key applied twice, or a replay answered as a new write, is a violation")
    func violations() {
        var model = ChaosLedgerModel()
        model.acknowledged(key: "g1", player: "p", delta: 10, sequence: 1, replayed: false)
        model.acknowledged(key: "g1", player: "p", delta: 10, sequence: 4, replayed: false)
        model.acknowledged(key: "g2", player: "q", delta: 1, sequence: 1, replayed: false)
        model.acknowledged(key: "g2", player: "q", delta: 1, sequence: 1, replayed: false)
        #expect(model.violations.count == 2)
    }
}
