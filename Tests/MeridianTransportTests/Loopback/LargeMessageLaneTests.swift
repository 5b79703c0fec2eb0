import Foundation
import MeridianTransport
import MeridianWire
import NIOCore
import NIOPosix
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
                // node-b on an event loop of its own, which the test stalls below.
                let bLoop = cluster.makeGroup(threads: 1)
                let b = try await cluster.start("node-b", configuration: configuration, group: bLoop)
                try a.send(Fixtures.call(0, tag: "warm-up"), to: b)
                let value1 = await eventually { b.collector.calls.count == 1 }
                #expect(value1)

                var random = SplitMix64(seed: 8)
                let payload = Data((0..<(8 * 1024 * 1024 / 8)).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } })
                #expect(payload.count == 8 * 1024 * 1024)

                // On loopback the kernel would otherwise swallow all 8 MiB at once and there
                // would be nothing left to overtake. With node-b not reading, the socket buffers
                // fill (a few MiB at most) and the rest of the big envelope has to wait in
                // node-a's bulk lane, which is what the small envelopes must overtake. node-b's
                // loop is held (deliberately blocked: this is the test's stalled peer) until
                // node-a's loop has taken every send — not for a time that a loaded machine may
                // outlast before the sends are made.
                let stalled = Flag()
                let resume = DispatchSemaphore(value: 0)
                bLoop.next().execute {
                    stalled.set()
                    _ = resume.wait(timeout: .now() + 60)
                }
                let value2 = await eventually { stalled.isSet }
                #expect(value2)
                try a.send(Fixtures.call(Self.bigID, tag: "big", arguments: payload), to: b)
                for id: UInt64 in 1...10 { try a.send(Fixtures.call(id), to: b) }
                // The sends are drained on node-a's loop in order: once this runs there, they all were.
                let connection = try #require(a.transport.connections.first)
                try await connection.channel.eventLoop.submit {}.get()
                resume.signal()

                let value3 = await eventually(within: .seconds(120)) { b.collector.calls.count == 12 }
                #expect(value3)
                let calls = b.collector.calls.dropFirst()  // the warm-up
                let bigFound = calls.first { $0.callID == Self.bigID }
                let big = try #require(bigFound)
                #expect(big.arguments == payload)
                #expect(calls.map(\.callID) == Array(1...10) + [Self.bigID], "the small envelopes did not all overtake the big one")
                #expect(a.transport.connections.first?.budget.pendingBytes == 0)
            }
        }
    }
}
