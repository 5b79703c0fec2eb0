import MeridianTopology
import Testing

@Suite("Shard placement by rendezvous hashing")
struct ShardPlacementTests {
    static let fiveNodes = ["eu-west-1", "eu-west-2", "eu-west-3", "eu-west-4", "eu-west-5"]

    @Test("1024 shards over 5 nodes are balanced within 25% of the mean")
    func balance() {
        let assignments = ShardPlacement.assignments(region: "eu-west", shardCount: 1024, nodes: Self.fiveNodes)
        #expect(assignments.count == 1024)
        let counts = Dictionary(grouping: assignments.values, by: { $0 }).mapValues(\.count)
        let mean = 1024.0 / 5
        #expect(Set(counts.keys) == Set(Self.fiveNodes))
        for (node, count) in counts {
            #expect(abs(Double(count) - mean) <= mean * 0.25, "\(node) owns \(count) shards")
        }
    }

    @Test("adding a node moves only shards that go to it, about 1/(n+1) of them")
    func addingNodeMovesFewShards() {
        let before = ShardPlacement.assignments(region: "eu-west", shardCount: 1024, nodes: Self.fiveNodes)
        let after = ShardPlacement.assignments(region: "eu-west", shardCount: 1024, nodes: Self.fiveNodes + ["eu-west-6"])
        let moved = (0..<1024).filter { before[$0] != after[$0] }
        let value1 = moved.allSatisfy { after[$0] == "eu-west-6" }
        #expect(value1)
        let expected = 1024.0 / 6
        #expect(abs(Double(moved.count) - expected) <= expected * 0.25, "\(moved.count) shards moved")
    }

    @Test("removing a node moves only that node's shards")
    func removingNodeMovesOnlyItsShards() {
        let before = ShardPlacement.assignments(region: "eu-west", shardCount: 1024, nodes: Self.fiveNodes)
        let survivors = Self.fiveNodes.filter { $0 != "eu-west-3" }
        let after = ShardPlacement.assignments(region: "eu-west", shardCount: 1024, nodes: survivors)
        for shard in 0..<1024 {
            if before[shard] == "eu-west-3" {
                #expect(after[shard] != "eu-west-3")
            } else {
                #expect(after[shard] == before[shard], "shard \(shard) moved without cause")
            }
        }
    }

    @Test("owners do not depend on the order or repeats of the node list")
    func orderIndependent() {
        let shuffled = ["eu-west-4", "eu-west-1", "eu-west-5", "eu-west-3", "eu-west-2", "eu-west-1"]
        #expect(ShardPlacement.assignments(region: "eu-west", shardCount: 64, nodes: Self.fiveNodes)
            == ShardPlacement.assignments(region: "eu-west", shardCount: 64, nodes: shuffled))
    }

    @Test("the region is part of the key, so regions with equal node names place differently")
    func regionMatters() {
        let nodes = ["n1", "n2", "n3"]
        #expect(ShardPlacement.assignments(region: "eu-west", shardCount: 64, nodes: nodes)
            != ShardPlacement.assignments(region: "us-east", shardCount: 64, nodes: nodes))
    }

    /// Pinned owners: if these change, the hash changed, and nodes of different builds would disagree
    /// on shard ownership. Only update them together with a cluster protocol version bump.
    @Test("owners are fixed across builds and platforms")
    func determinism() {
        #expect(ShardPlacement.owner(region: "eu-west", shard: 0, nodes: Self.fiveNodes) == "eu-west-4")
        #expect(ShardPlacement.owner(region: "eu-west", shard: 7, nodes: Self.fiveNodes) == "eu-west-2")
        #expect(ShardPlacement.owner(region: "us-east", shard: 3, nodes: ["us-east-1", "us-east-2"]) == "us-east-1")
        let firstEight = (0..<8).compactMap { ShardPlacement.owner(region: "ap-south", shard: $0, nodes: ["a", "b", "c"]) }
        #expect(firstEight == ["b", "c", "c", "a", "c", "c", "b", "c"])
    }

    @Test("no nodes means no owner")
    func emptyNodeList() {
        #expect(ShardPlacement.owner(region: "eu-west", shard: 0, nodes: []) == nil)
        #expect(ShardPlacement.assignments(region: "eu-west", shardCount: 16, nodes: []).isEmpty)
        #expect(ShardPlacement.assignments(region: "eu-west", shardCount: 0, nodes: ["a"]).isEmpty)
        #expect(ShardPlacement.assignments(region: "eu-west", shardCount: -3, nodes: ["a"]).isEmpty)
    }

    @Test("a single node owns every shard")
    func singleNode() {
        let assignments = ShardPlacement.assignments(region: "eu-west", shardCount: 16, nodes: ["only"])
        let value2 = assignments.values.allSatisfy { $0 == "only" }
        #expect(assignments.count == 16 && value2)
    }
}
