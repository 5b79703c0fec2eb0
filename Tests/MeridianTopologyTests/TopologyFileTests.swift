import MeridianTopology
import Testing

@Suite("Topology files in the repository")
struct TopologyFileTests {
    @Test("local.yaml parses and validates")
    func localTopology() throws {
        let topology = try TopologyLoader.load(path: Fixtures.topologyPath("local.yaml"))
        #expect(topology.cluster == "meridian-local")
        #expect(topology.version == 1)
        #expect(topology.regions.map(\.name) == ["ap-south", "eu-west", "us-east"])
        let value1 = topology.regions.allSatisfy { $0.shards == 16 && $0.storage == "sqlite:data/\($0.name)" }
        #expect(value1)
        #expect(topology.catalogPrimary == "eu-west")
        #expect(topology.identityAuthority == "eu-west")
        #expect(topology.seeds == ["eu-west-1", "us-east-1", "ap-south-1"])
        #expect(topology.nodes.count == 6)
        #expect(topology.nodes(in: "us-east").map(\.id) == ["us-east-1", "us-east-2"])

        let node = try #require(topology.node(id: "ap-south-2"))
        #expect(node.region == "ap-south")
        #expect(node.cluster == HostPort(host: "127.0.0.1", port: 7422))
        #expect(node.gateway == HostPort(host: "127.0.0.1", port: 7522))
        #expect(node.metrics == HostPort(host: "127.0.0.1", port: 9422))

        #expect(topology.latency.oneWay(from: "eu-west", to: "us-east") == .milliseconds(40))
        #expect(topology.latency.oneWay(from: "ap-south", to: "us-east") == .milliseconds(110))
        #expect(topology.latency.largestRoundTrip == .milliseconds(220))
        #expect(topology.region(named: "mars") == nil)
        #expect(topology.node(id: "mars-1") == nil)
    }

    @Test("examples/production.yaml parses and validates")
    func productionExample() throws {
        let topology = try TopologyLoader.load(path: Fixtures.topologyPath("examples/production.yaml"))
        #expect(topology.nodes.count == 9)
        let value2 = topology.regions.allSatisfy { topology.nodes(in: $0.name).count == 3 }
        #expect(value2)
        #expect(topology.region(named: "eu-west")?.storage == "postgres://meridian@db.eu-west.internal/meridian_eu_west")
        let value3 = topology.nodes.allSatisfy { $0.cluster.host.hasPrefix("10.") }
        #expect(value3)
    }

    @Test("a missing file is reported, not thrown as a crash")
    func missingFile() {
        #expect {
            try TopologyLoader.load(path: Fixtures.topologyPath("no-such-file.yaml"))
        } throws: { error in
            guard let error = error as? TopologyError else { return false }
            return error.issues.map(\.code) == [.unreadable] && error.description.contains("no-such-file.yaml")
        }
    }

    @Test("a topology built in code validates with the same rules")
    func validateInMemory() throws {
        var topology = try TopologyLoader.parse(yaml: Fixtures.minimalYAML)
        try topology.validate()
        topology.seeds.append("ghost")
        topology.nodes[1].gateway = topology.nodes[0].cluster
        topology.nodes[1].metrics = HostPort(host: "127.0.0.1", port: 0)
        topology.latency.milliseconds[RegionPair("eu-west", "us-east")] = .max
        #expect(topology.latency.largestRoundTrip > .zero)
        #expect {
            try topology.validate(file: "memory")
        } throws: { error in
            guard let error = error as? TopologyError else { return false }
            return Set(error.issues.map(\.code)) == [.badSeed, .addressClash, .badAddress, .badLatency]
                && error.issues.allSatisfy { $0.line == 0 && $0.description.hasPrefix("memory: error: ") }
        }
    }
}
