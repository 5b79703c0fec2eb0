import MeridianCatalog
import Testing

typealias Peer = CatalogReplicationState.Peer

/// The replication rules, without a network.
@Suite("CatalogReplicationState: leader, anti-entropy, versions")
struct CatalogReplicationStateTests {
    static func stamp(_ version: UInt64, _ seed: UInt8 = 0) -> CatalogStamp {
        CatalogStamp(version: version, hash: CatalogHash(bytes: [UInt8](repeating: seed, count: 32))!)
    }

    static let euWest2 = Peer(node: "eu-west-2", incarnation: 1, region: "eu-west")
    static let euWest3 = Peer(node: "eu-west-3", incarnation: 1, region: "eu-west")
    static let usEast1 = Peer(node: "us-east-1", incarnation: 1, region: "us-east")
    static let apSouth1 = Peer(node: "ap-south-1", incarnation: 1, region: "ap-south")

    static func state(_ node: String, region: String, local: UInt64 = 0, peers: [Peer]) -> CatalogReplicationState {
        var state = CatalogReplicationState(node: node, region: region, primaryRegion: "eu-west", local: stamp(local))
        _ = state.membersChanged(peers)
        return state
    }

    @Test("the leader is the alive primary-region member with the smallest id, this node included")
    func leader() {
        #expect(Self.state("eu-west-1", region: "eu-west", peers: [Self.euWest2, Self.usEast1]).leader == "eu-west-1")
        #expect(Self.state("eu-west-3", region: "eu-west", peers: [Self.euWest2, Self.usEast1]).leader == "eu-west-2")
        #expect(Self.state("us-east-1", region: "us-east", peers: [Self.euWest3, Self.euWest2]).leader == "eu-west-2")
        #expect(Self.state("us-east-1", region: "us-east", peers: [Self.apSouth1]).leader == nil)
        // The leader's departure hands leadership to the next id.
        var follower = Self.state("eu-west-3", region: "eu-west", peers: [Self.euWest2, Self.usEast1])
        #expect(!follower.isLeader)
        _ = follower.membersChanged([Self.usEast1])
        #expect(follower.isLeader)
    }

    @Test("a round: followers ask the leader, the leader asks everyone, without a leader everyone asks everyone")
    func rounds() {
        let follower = Self.state("us-east-1", region: "us-east", peers: [Self.euWest2, Self.apSouth1])
        #expect(follower.round() == [.query(Self.euWest2)])
        let leader = Self.state("eu-west-1", region: "eu-west", peers: [Self.usEast1, Self.euWest2, Self.apSouth1])
        #expect(leader.round() == [.query(Self.apSouth1), .query(Self.euWest2), .query(Self.usEast1)])
        let orphan = Self.state("us-east-1", region: "us-east", peers: [Self.apSouth1])
        #expect(orphan.round() == [.query(Self.apSouth1)])
    }

    @Test("a newer catalog is fetched once, from whoever announced it first; a failed fetch is retried")
    func fetchOnce() {
        var state = Self.state("us-east-1", region: "us-east", local: 3, peers: [Self.euWest2, Self.apSouth1])
        #expect(state.observed(Self.stamp(5), from: Self.euWest2) == [.fetch(from: Self.euWest2)])
        #expect(state.observed(Self.stamp(5), from: Self.apSouth1) == [])
        #expect(state.observed(Self.stamp(5), from: Self.euWest2) == [])
        state.fetchEnded(from: "eu-west-2")
        #expect(state.observed(Self.stamp(5), from: Self.apSouth1) == [.fetch(from: Self.apSouth1)])
        state.fetchEnded(from: "ap-south-1")
        #expect(state.served(Self.stamp(5)) == [])
        #expect(state.observed(Self.stamp(5), from: Self.euWest2) == [])
        #expect(state.observed(Self.stamp(3), from: Self.euWest2) == [], "followers never push")
    }

    @Test("the leader pushes to peers that are behind, also after it caught up itself")
    func leaderPushes() {
        var leader = Self.state("eu-west-1", region: "eu-west", local: 4, peers: [Self.euWest2, Self.usEast1, Self.apSouth1])
        #expect(leader.observed(Self.stamp(2), from: Self.apSouth1) == [.push(to: Self.apSouth1)])
        #expect(leader.observed(Self.stamp(4), from: Self.usEast1) == [])
        #expect(leader.observed(Self.stamp(6), from: Self.euWest2) == [.fetch(from: Self.euWest2)])
        leader.fetchEnded(from: "eu-west-2")
        #expect(leader.served(Self.stamp(6)) == [.push(to: Self.apSouth1), .push(to: Self.usEast1)])
    }

    @Test("a restarted member (new incarnation) is checked by the leader at once; what it said before is forgotten")
    func restartedMember() {
        var leader = Self.state("eu-west-1", region: "eu-west", local: 4, peers: [Self.euWest2, Self.usEast1])
        _ = leader.observed(Self.stamp(4), from: Self.usEast1)
        #expect(leader.known["us-east-1"] == Self.stamp(4))
        #expect(leader.membersChanged([Self.euWest2]) == [])
        #expect(leader.known["us-east-1"] == nil)
        let reborn = Peer(node: "us-east-1", incarnation: 2, region: "us-east")
        #expect(leader.membersChanged([Self.euWest2, reborn]) == [.query(reborn)])
        #expect(leader.observed(Self.stamp(4), from: Self.usEast1) == [], "the old incarnation's answer is ignored")
        #expect(leader.observed(Self.stamp(1), from: reborn) == [.push(to: reborn)])
    }

    @Test("a follower asks a new leader at once")
    func newLeader() {
        var follower = Self.state("us-east-1", region: "us-east", peers: [Self.euWest3])
        let euWest1 = Peer(node: "eu-west-1", incarnation: 7, region: "eu-west")
        #expect(follower.membersChanged([Self.euWest3, euWest1]) == [.query(euWest1)])
        #expect(follower.membersChanged([Self.euWest3, euWest1, Self.apSouth1]) == [])
        #expect(follower.membersChanged([Self.euWest3, Self.apSouth1]) == [.query(Self.euWest3)])
    }

    @Test("versions are monotonic: above everything heard of, never handed out twice")
    func versions() {
        var leader = Self.state("eu-west-1", region: "eu-west", local: 4, peers: [Self.euWest2, Self.usEast1])
        #expect(leader.nextVersion == 5)
        _ = leader.observed(Self.stamp(9), from: Self.usEast1)  // fetch pending or failed: still skipped past
        #expect(leader.reserveVersion() == 10)
        #expect(leader.reserveVersion() == 11)
        leader.published(Self.stamp(11))
        #expect(leader.local.version == 11)
        #expect(leader.reserveVersion() == 12)
    }

    @Test("a version at UInt64.max announced by a peer leaves no next version: a refusal, not a trap")
    func versionsExhausted() {
        var leader = Self.state("eu-west-1", region: "eu-west", local: 4, peers: [Self.euWest2, Self.usEast1])
        _ = leader.observed(Self.stamp(UInt64.max), from: Self.usEast1)
        #expect(leader.nextVersion == nil)
        #expect(leader.reserveVersion() == nil)
    }

    @Test("stamps order by version, then content hash")
    func stampOrder() {
        #expect(Self.stamp(2, 9) < Self.stamp(3, 0))
        #expect(Self.stamp(3, 1) < Self.stamp(3, 2))
        #expect(Self.stamp(3, 2) == Self.stamp(3, 2))
    }
}
