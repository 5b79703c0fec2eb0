import Foundation
import MeridianCatalog
import Testing

@Suite("Feature-flag rollout by player hash")
struct RolloutTests {
    /// Fixed players: the same list in every run, on every machine.
    static let players: [UUID] = (0..<10_000).map { index in
        var bytes = [UInt8](repeating: 0, count: 16)
        var value = UInt64(index) &* 0x9e37_79b9_7f4a_7c15
        for position in 0..<8 {
            bytes[position] = UInt8(truncatingIfNeeded: value)
            bytes[15 - position] = UInt8(truncatingIfNeeded: value >> 3)
            value >>= 8
        }
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    @Test("buckets are pinned: the same on every node, process and release")
    func pinnedBuckets() throws {
        let player = try #require(UUID(uuidString: "3F2504E0-4F89-11D3-9A0C-0305E82C3301"))
        // Recorded values. If this test fails, a change made rollouts differ between old and new nodes.
        #expect(Rollout.bucket(flag: "new_matchmaker", player: player) == Self.recorded.matchmaker)
        #expect(Rollout.bucket(flag: "ranked_season_2", player: player) == Self.recorded.ranked)
        #expect(Rollout.bucket(flag: "new_matchmaker", subject: "alice") == Self.recorded.alice)
    }

    static let recorded = (matchmaker: UInt64(8881), ranked: UInt64(6574), alice: UInt64(2775))

    @Test("raising the percentage keeps every player already in")
    func monotone() {
        let steps = [0, 1, 500, 1_000, 1_001, 2_000, 5_000, 9_999, 10_000]
        var previous: Set<UUID> = []
        for basisPoints in steps {
            let flag = FeatureFlag(name: "new_matchmaker", enabled: true, rollout: Rollout(basisPoints: basisPoints)!)
            let included = Set(Self.players.filter { flag.isEnabled(forPlayer: $0) })
            #expect(previous.isSubset(of: included), "raising to \(basisPoints) bp dropped players")
            previous = included
        }
        #expect(previous.count == Self.players.count)
    }

    @Test("the share of players matches the percentage, and flags draw independent populations")
    func proportions() {
        let ten = FeatureFlag(name: "a", enabled: true, rollout: Rollout(percent: 10)!)
        let otherTen = FeatureFlag(name: "b", enabled: true, rollout: Rollout(percent: 10)!)
        let inA = Set(Self.players.filter { ten.isEnabled(forPlayer: $0) })
        let inB = Set(Self.players.filter { otherTen.isEnabled(forPlayer: $0) })
        #expect((850...1_150).contains(inA.count), "10 % of 10 000 players: \(inA.count)")
        #expect((850...1_150).contains(inB.count))
        // Independent: about 1 % of players are in both, not 10 %.
        #expect(inA.intersection(inB).count < 250, "\(inA.intersection(inB).count) players in both")
    }

    @Test("a disabled flag is off for everyone; nobody and everyone are exact")
    func switches() {
        let off = FeatureFlag(name: "f", enabled: false, rollout: .everyone)
        let nobody = FeatureFlag(name: "f", enabled: true, rollout: .nobody)
        let everyone = FeatureFlag(name: "f", enabled: true, rollout: .everyone)
        let value1 = Self.players.allSatisfy { !off.isEnabled(forPlayer: $0) && !nobody.isEnabled(forPlayer: $0) }
        #expect(value1)
        let value2 = Self.players.allSatisfy { everyone.isEnabled(forPlayer: $0) }
        #expect(value2)
        #expect(Rollout(percent: 100.01) == nil && Rollout(percent: -0.01) == nil && Rollout(percent: 0.005) == nil)
        #expect(Rollout(basisPoints: 10_001) == nil)
        #expect(Rollout(percent: 12.5)?.description == "12.5%" && Rollout(percent: 20)?.description == "20%")
    }

    @Test("the same answer from a snapshot received over the wire (another node)")
    func sameOnEveryNode() throws {
        let content = CatalogContent(flags: [FeatureFlag(name: "new_matchmaker", enabled: true, rollout: Rollout(percent: 33.33)!)])
        let here = CatalogSnapshot(version: 4, content: content, publishedBy: "eu-west-1")
        let there = try CatalogSnapshot(proto: here.proto)
        #expect(there.stamp == here.stamp)
        for player in Self.players.prefix(2_000) {
            #expect(here.isEnabled("new_matchmaker", forPlayer: player) == there.isEnabled("new_matchmaker", forPlayer: player))
        }
        #expect(!here.isEnabled("no_such_flag", forPlayer: Self.players[0]))
    }
}
