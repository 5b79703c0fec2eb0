import MeridianTopology
import Testing

@Suite("HostPort and LatencyTable")
struct ValueTypeTests {
    @Test("host:port parses", arguments: [
        ("127.0.0.1:7401", "127.0.0.1", 7401),
        ("node-1.eu-west.internal:1", "node-1.eu-west.internal", 1),
        ("[::1]:65535", "::1", 65535),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let parsed = try #require(HostPort(parsing: text))
        #expect(parsed == HostPort(host: host, port: port))
        #expect(parsed.description == text)
    }

    @Test("malformed host:port is refused", arguments: [
        "", "127.0.0.1", "127.0.0.1:", ":7401", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:+80",
        "127.0.0.1:80x", "::1:7401", "[::1]7401", "[::1", "a b:80", "host:99999999999999999999",
    ])
    func refused(text: String) {
        #expect(HostPort(parsing: text) == nil)
    }

    @Test("latency is symmetric, zero within a region and for unlisted pairs")
    func latency() {
        let table = LatencyTable(milliseconds: [RegionPair("us-east", "eu-west"): 40, RegionPair("eu-west", "ap-south"): 70])
        #expect(table.oneWay(from: "eu-west", to: "us-east") == .milliseconds(40))
        #expect(table.oneWay(from: "us-east", to: "eu-west") == .milliseconds(40))
        #expect(table.roundTrip(from: "ap-south", to: "eu-west") == .milliseconds(140))
        #expect(table.oneWay(from: "eu-west", to: "eu-west") == .zero)
        #expect(table.oneWay(from: "us-east", to: "ap-south") == .zero)
        #expect(table.largestRoundTrip == .milliseconds(140))
        #expect(LatencyTable().largestRoundTrip == .zero)
        #expect(RegionPair("b", "a").description == "a/b")
    }
}
