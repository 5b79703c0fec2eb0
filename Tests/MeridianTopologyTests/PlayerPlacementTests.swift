import Foundation
import MeridianTopology
import Testing

@Suite("Player placement: fail-over only where the region's nodes share storage")
struct PlayerPlacementTests {
    static func topology(storage: String) throws -> Topology {
        try TopologyLoader.parse(yaml: """
        cluster: placement
        version: 1
        regions:
          eu-west: { shards: 4, storage: "\(storage)" }
        catalog_primary: eu-west
        identity_authority: eu-west
        seeds: [eu-west-1]
        nodes:
          - { id: eu-west-1, region: eu-west, cluster: "127.0.0.1:1", gateway: "127.0.0.1:2", metrics: "127.0.0.1:3" }
          - { id: eu-west-2, region: eu-west, cluster: "127.0.0.1:4", gateway: "127.0.0.1:5", metrics: "127.0.0.1:6" }
          - { id: eu-west-3, region: eu-west, cluster: "127.0.0.1:7", gateway: "127.0.0.1:8", metrics: "127.0.0.1:9" }
        """)
    }

    static let players = (0..<600).map { _ in UUID() }

    @Test func withSharedStorageOnlyTheDownNodesPlayersMoveAndTheyComeBack() throws {
        let topology = try Self.topology(storage: "postgres://meridian@127.0.0.1:5432/eu")
        let before = Self.players.map { PlayerPlacement.owner(of: $0, region: "eu-west", topology: topology) }
        let down = Self.players.map { PlayerPlacement.owner(of: $0, region: "eu-west", topology: topology) { $0 == "eu-west-2" } }
        for (index, owner) in before.enumerated() {
            if owner == "eu-west-2" {
                #expect(down[index] != nil && down[index] != "eu-west-2")
            } else {
                #expect(down[index] == owner, "a player of a live node stays where it is")
            }
        }
        let moved = before.filter { $0 == "eu-west-2" }.count
        #expect(moved > 100 && moved < 300, "about a third of 600 players lived on eu-west-2: \(moved)")
        // Back up: every player is where it was.
        let after = Self.players.map { PlayerPlacement.owner(of: $0, region: "eu-west", topology: topology) { _ in false } }
        #expect(after == before)
        // No node left: nowhere to serve.
        let none = PlayerPlacement.owner(of: UUID(), region: "eu-west", topology: topology) { _ in true }
        #expect(none == nil)
    }

    @Test func withOneSQLiteFilePerNodeAPlayerStaysOnItsNode() throws {
        let topology = try Self.topology(storage: "sqlite:data/eu")
        #expect(topology.region(named: "eu-west")?.nodesShareStorage == false)
        for player in Self.players.prefix(50) {
            let owner = PlayerPlacement.owner(of: player, region: "eu-west", topology: topology)
            let whileDown = PlayerPlacement.owner(of: player, region: "eu-west", topology: topology) { $0 == owner }
            #expect(whileDown == owner, "the player's data is in its node's file")
        }
    }
}
