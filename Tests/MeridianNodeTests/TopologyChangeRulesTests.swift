import Foundation
import MeridianNode
import MeridianTopology
import Testing

/// What a running cluster refuses to change live, whatever the file's own rules allow.
@Suite struct TopologyChangeRulesTests {
    static let base = """
        cluster: rules
        version: 1
        regions:
          eu-west: { shards: 4, storage: "sqlite:data/eu-west" }
          us-east: { shards: 4, storage: "postgres://meridian@127.0.0.1/us_east" }
        catalog_primary: eu-west
        identity_authority: eu-west
        seeds: [eu-west-1]
        nodes:
          - { id: eu-west-1, region: eu-west, cluster: "127.0.0.1:7401", gateway: "127.0.0.1:7501" }
          - { id: eu-west-2, region: eu-west, cluster: "127.0.0.1:7402", gateway: "127.0.0.1:7502" }
          - { id: us-east-1, region: us-east, cluster: "127.0.0.1:7411", gateway: "127.0.0.1:7511" }
        """

    static func topology(_ yaml: String, version: Int = 2) throws -> Topology {
        try TopologyLoader.parse(yaml: yaml.replacingOccurrences(of: "version: 1", with: "version: \(version)"))
    }

    static func refusals(_ yaml: String) throws -> [String] {
        TopologyChangeRules.refusals(from: try topology(base, version: 1), to: try topology(yaml))
    }

    @Test func shardCountsLatencyAndNodesThatHoldNoSQLitePlayersChangeLive() throws {
        var yaml = Self.base.replacingOccurrences(of: "eu-west: { shards: 4", with: "eu-west: { shards: 8")
        yaml += "\n  - { id: eu-west-3, region: eu-west, cluster: \"127.0.0.1:7403\", gateway: \"127.0.0.1:7503\", players: false }"
        yaml += "\n  - { id: us-east-2, region: us-east, cluster: \"127.0.0.1:7412\", gateway: \"127.0.0.1:7512\" }"
        #expect(try Self.refusals(yaml) == [])
    }

    @Test func aNodeHoldingSQLitePlayersCannotJoinOrLeaveARunningRegion() throws {
        let joining = Self.base + "\n  - { id: eu-west-3, region: eu-west, cluster: \"127.0.0.1:7403\", gateway: \"127.0.0.1:7503\" }"
        let joinRefusals = try Self.refusals(joining)
        #expect(joinRefusals.count == 1)
        #expect(joinRefusals.first?.contains("add it with 'players: false'") == true)

        let leaving = Self.base.replacingOccurrences(of: "  - { id: eu-west-2, region: eu-west, cluster: \"127.0.0.1:7402\", gateway: \"127.0.0.1:7502\" }\n", with: "")
        let leaveRefusals = try Self.refusals(leaving)
        #expect(leaveRefusals.first?.contains("node eu-west-2 is removed, but its players' data is in its own SQLite file") == true)

        // With PostgreSQL the region's nodes share the store: any node can come and go.
        let postgresLeaving = Self.base + "\n  - { id: us-east-2, region: us-east, cluster: \"127.0.0.1:7412\", gateway: \"127.0.0.1:7512\" }"
        let grown = try Self.topology(postgresLeaving)
        #expect(TopologyChangeRules.refusals(from: grown, to: try Self.topology(Self.base, version: 3)) == [])
    }

    @Test func aRunningNodeCannotMoveAndARegionWithPlayersCannotGo() throws {
        let moved = Self.base.replacingOccurrences(of: "127.0.0.1:7411", with: "127.0.0.1:7419")
        #expect(try Self.refusals(moved).first?.contains("node us-east-1 changes its cluster or gateway address") == true)
        let storage = Self.base.replacingOccurrences(of: "sqlite:data/eu-west", with: "sqlite:elsewhere/eu-west")
        #expect(try Self.refusals(storage).first?.contains("the storage of region eu-west changes") == true)
        let renamed = Self.base.replacingOccurrences(of: "cluster: rules", with: "cluster: other")
        #expect(try Self.refusals(renamed).first?.contains("the cluster's name changes") == true)
    }
}
