import Foundation
import MeridianTransport
import MeridianWire
import NIOCore
import Testing

extension Loopback {
    /// An 8 MiB envelope travels in 64 KiB fragments on the bulk lane; small envelopes sent
    /// after it overtake it on the priority lane.
    @Suite("Large messages and lanes")
    struct LargeMessageLaneTests {
        static let bigID: UInt64 = 1_000_000

        @Test("an 8 MiB envelope arrives intact, and small envelopes sent after it arrive before it completes")
        func separateLane() async throws {
            try await TestCluster.run { cluster in
                var configuration = TestCluster.configuration
                configuration.fragmentSize = 64 * 1024
                let a = try await cluster.start("node-a", configuration: configuration)
                let b = try await cluster.start("node-b", configuration: configuration)
                try a.send(Fixtures.call(0, tag: "warm-up"), to: b)
                #expect(await eventually { b.collector.calls.count == 1 })

                var random = SplitMix64(seed: 8)
                let payload = Data((0..<(8 * 1024 * 1024 / 8)).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } })
                #expect(payload.count == 8 * 1024 * 1024)
                try a.send(Fixtures.call(Self.bigID, tag: "big", arguments: payload), to: b)
                try a.send(Fixtures.call(1), to: b)

                // Keep sending small calls until the big one is in.
                func bigArrived() -> Bool { b.collector.calls.contains { $0.callID == Self.bigID } }
                let deadline = ContinuousClock.now + .seconds(120)
                var sent: UInt64 = 1
                while !bigArrived(), ContinuousClock.now < deadline {
                    if sent < 20_000 {
                        sent += 1
                        try a.send(Fixtures.call(sent), to: b)
                    }
                    try await Task.sleep(for: .milliseconds(1))
                }
                #expect(bigArrived())
                #expect(await eventually { b.collector.calls.count == Int(sent) + 2 })

                let calls = b.collector.calls.dropFirst()  // the warm-up
                let big = try #require(calls.first { $0.callID == Self.bigID })
                #expect(big.arguments == payload)
                let smallIDs = calls.map(\.callID).filter { $0 != Self.bigID }
                #expect(smallIDs == Array(1...sent), "small envelopes are delivered in order")
                let overtaking = calls.prefix { $0.callID != Self.bigID }.count
                #expect(overtaking >= 1, "no small envelope sent after the big one arrived before it")
                print("lanes: \(overtaking) of \(sent) small envelopes overtook the 8 MiB envelope")
                #expect(a.transport.connections.first?.budget.pendingBytes == 0)
            }
        }
    }
}
