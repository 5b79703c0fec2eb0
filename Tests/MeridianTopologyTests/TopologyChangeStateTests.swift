import Foundation
import MeridianTopology
import Testing

/// One node's side of a live topology change: the version is a compare-and-set, one change is
/// prepared at a time, and a prepared change that is never decided expires.
@Suite struct TopologyChangeStateTests {
    let a = Data([1])
    let b = Data([2])

    @Test func onlyTheNextVersionIsPreparedAndCommitted() {
        var state = TopologyChangeState(currentVersion: 3)
        #expect(state.prepare(version: 3, digest: a, now: .zero) != .accepted)
        #expect(state.prepare(version: 5, digest: a, now: .zero) != .accepted)
        #expect(state.prepare(version: 4, digest: a, now: .zero) == .accepted)
        #expect(state.commit(version: 4, digest: a, now: .seconds(1)) == .apply)
        #expect(state.currentVersion == 4)
        #expect(state.prepared == nil)
        // A repeated commit (the tool retried) changes nothing.
        #expect(state.commit(version: 4, digest: a, now: .seconds(2)) == .alreadyApplied)
    }

    @Test func ofTwoChangesToTheSameVersionTheSecondIsRefusedUntilTheFirstEnds() {
        var state = TopologyChangeState(currentVersion: 1)
        #expect(state.prepare(version: 2, digest: a, now: .zero) == .accepted)
        #expect(state.prepare(version: 2, digest: b, now: .seconds(1)) != .accepted)
        // The same change again (a retried request) is fine.
        #expect(state.prepare(version: 2, digest: a, now: .seconds(1)) == .accepted)
        // The loser cannot commit; aborting the winner lets the other through.
        #expect(state.commit(version: 2, digest: b, now: .seconds(2)) != .apply)
        state.abort(version: 2, digest: b)  // not the prepared one: no effect
        #expect(state.prepared?.digest == a)
        state.abort(version: 2, digest: a)
        #expect(state.prepare(version: 2, digest: b, now: .seconds(3)) == .accepted)
        #expect(state.commit(version: 2, digest: b, now: .seconds(4)) == .apply)
    }

    @Test func aChangeNeverDecidedExpiresAfterItsLease() {
        var state = TopologyChangeState(currentVersion: 1, prepareLease: .seconds(30))
        #expect(state.prepare(version: 2, digest: a, now: .zero) == .accepted)
        #expect(state.prepare(version: 2, digest: b, now: .seconds(29)) != .accepted)
        #expect(state.prepare(version: 2, digest: b, now: .seconds(30)) == .accepted)
        // The expired one can no longer commit.
        #expect(state.commit(version: 2, digest: a, now: .seconds(31)) != .apply)
        #expect(state.commit(version: 2, digest: b, now: .seconds(59)) == .apply)
    }

    @Test func aVersionLearnedFromAPeerOvertakesAPreparedChange() {
        var state = TopologyChangeState(currentVersion: 1)
        #expect(state.prepare(version: 2, digest: a, now: .zero) == .accepted)
        state.learned(version: 3)
        #expect(state.currentVersion == 3)
        #expect(state.prepared == nil)
        state.learned(version: 2)  // older: ignored
        #expect(state.currentVersion == 3)
        #expect(state.prepare(version: 4, digest: b, now: .seconds(1)) == .accepted)
    }

    @Test func theLiveTopologyAdoptsOnlyNewerVersions() throws {
        let first = try TopologyLoader.parse(yaml: Fixtures.minimalYAML)
        let live = LiveTopology(first, yaml: Fixtures.minimalYAML)
        var second = first
        second.version = 2
        second.regions[0].shards = 8
        #expect(live.adopt(.init(topology: second, yaml: "v2")))
        #expect(!live.adopt(.init(topology: first, yaml: Fixtures.minimalYAML)))
        #expect(live.version == 2)
        #expect(live.current.region(named: "eu-west")?.shards == 8)
        #expect(live.currentVersion.yaml == "v2")
    }

    @Test func theKeptVersionIsWrittenWholeAndTheNewerOfItAndTheStartingFileRuns() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-applied-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = AppliedTopologyFile(directory: directory.path, node: "eu-west-1")
        let first = try TopologyLoader.parse(yaml: Fixtures.minimalYAML)
        #expect(try file.load(cluster: "test") == nil)
        let yaml2 = Fixtures.minimalYAML.replacingOccurrences(of: "version: 1", with: "version: 2")
        let second = try TopologyLoader.parse(yaml: yaml2)
        try file.save(.init(topology: second, yaml: yaml2))
        let kept = try file.load(cluster: "test")
        #expect(kept?.topology.version == 2)
        #expect(try file.load(cluster: "another") == nil)
        #expect(AppliedTopologyFile.newer(.init(topology: first, yaml: Fixtures.minimalYAML), kept).topology.version == 2)
        let yaml3 = Fixtures.minimalYAML.replacingOccurrences(of: "version: 1", with: "version: 3")
        #expect(AppliedTopologyFile.newer(.init(topology: try TopologyLoader.parse(yaml: yaml3), yaml: yaml3), kept).topology.version == 3)
    }

    @Test func aNodeMaySayItHoldsNoPlayersButEveryRegionNeedsOneThatDoes() throws {
        let yaml = Fixtures.minimalYAML.replacingOccurrences(
            of: #"- { id: us-east-1, region: us-east, cluster: "127.0.0.1:7411", gateway: "127.0.0.1:7511" }"#,
            with: #"- { id: us-east-1, region: us-east, cluster: "127.0.0.1:7411", gateway: "127.0.0.1:7511", players: false }"#
        )
        let issues = Fixtures.issues(yaml)
        let refused = issues.map(\.message).contains { $0.contains("every node of region 'us-east' says 'players: false'") }
        #expect(refused)
        let withThird = Fixtures.minimalYAML + "\n" + #"  - { id: us-east-2, region: us-east, cluster: "127.0.0.1:7412", gateway: "127.0.0.1:7512", players: false }"#
        let topology = try TopologyLoader.parse(yaml: withThird)
        #expect(topology.node(id: "us-east-2")?.holdsPlayers == false)
        // No player is ever placed on it.
        for _ in 0..<200 {
            #expect(PlayerPlacement.owner(of: UUID(), region: "us-east", topology: topology) == "us-east-1")
        }
    }
}
