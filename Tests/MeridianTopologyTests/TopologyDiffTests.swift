import MeridianTopology
import Testing

@Suite("Topology diff")
struct TopologyDiffTests {
    let local: Topology

    init() throws {
        local = try TopologyLoader.load(path: Fixtures.topologyPath("local.yaml"))
    }

    @Test("identical topologies have an empty diff")
    func unchanged() {
        let diff = TopologyDiff(old: local, new: local)
        #expect(diff.isEmpty)
        #expect(diff.description == "no changes")
    }

    @Test("an added node is listed with its region and cluster address")
    func addedNode() {
        var new = local
        let node = Node(id: "eu-west-3", region: "eu-west",
                        cluster: HostPort(host: "127.0.0.1", port: 7403), gateway: HostPort(host: "127.0.0.1", port: 7503))
        new.nodes.append(node)
        new.version = 2
        let diff = TopologyDiff(old: local, new: new)
        #expect(diff.addedNodes == [node])
        #expect(diff.removedNodes.isEmpty)
        #expect(diff.changes == [.versionChanged(from: 1, to: 2), .nodeAdded(node)])
        #expect(diff.description == "~ version 1 -> 2\n+ node eu-west-3 (eu-west) 127.0.0.1:7403")
    }

    @Test("a removed node is listed")
    func removedNode() throws {
        var new = local
        new.nodes.removeAll { $0.id == "us-east-2" }
        let diff = TopologyDiff(old: local, new: new)
        let removed = try #require(local.node(id: "us-east-2"))
        #expect(diff.removedNodes == [removed])
        #expect(diff.description == "- node us-east-2 (us-east) 127.0.0.1:7412")
    }

    @Test("changed shard count, storage, addresses, latency, roles and seeds")
    func changes() {
        var new = local
        new.regions[1].shards = 32  // eu-west (regions are sorted)
        new.regions[1].storage = "postgres://meridian:secret@db/eu"
        new.nodes[0].gateway = HostPort(host: "127.0.0.1", port: 7601)
        new.nodes[0].metrics = nil
        new.latency.milliseconds[RegionPair("us-east", "eu-west")] = 45
        new.latency.milliseconds[RegionPair("ap-south", "us-east")] = nil
        new.catalogPrimary = "us-east"
        new.seeds = ["eu-west-1"]
        let diff = TopologyDiff(old: local, new: new)
        #expect(diff.changes.contains(.regionShardsChanged(region: "eu-west", from: 16, to: 32)))
        #expect(diff.description == """
            ~ region eu-west shards 16 -> 32
            ~ region eu-west storage sqlite:data/eu-west -> postgres://meridian:***@db/eu
            ~ node eu-west-1 gateway 127.0.0.1:7501 -> 127.0.0.1:7601
            ~ node eu-west-1 metrics 127.0.0.1:9401 -> none
            - latency ap-south/us-east 110ms
            ~ latency eu-west/us-east 40ms -> 45ms
            ~ catalog_primary eu-west -> us-east
            ~ seeds [eu-west-1, us-east-1, ap-south-1] -> [eu-west-1]
            """)
    }

    @Test("added and removed regions and moved nodes")
    func regions() {
        var new = local
        new.regions.append(Region(name: "sa-east", shards: 8, storage: "sqlite:data/sa-east"))
        new.regions.removeAll { $0.name == "ap-south" }
        new.nodes[5].region = "sa-east"
        let diff = TopologyDiff(old: local, new: new)
        #expect(diff.addedRegions.map(\.name) == ["sa-east"])
        #expect(diff.removedRegions.map(\.name) == ["ap-south"])
        #expect(diff.changes.contains(.nodeRegionChanged(node: "ap-south-2", from: "ap-south", to: "sa-east")))
        #expect(diff.description.contains("+ region sa-east (8 shards, sqlite:data/sa-east)"))
        #expect(diff.description.contains("- region ap-south (16 shards, sqlite:data/ap-south)"))
    }
}
