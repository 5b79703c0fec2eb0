import Distributed
import Foundation
import MeridianCluster
import MeridianTransport
import Testing

@Suite("One-way calls: ordered, no reply, dropped or refused under a full outbound budget")
struct OneWayCallTests {
    @Test func oneWayCallsArriveInTheOrderTheyWereSent() async throws {
        try await TestCluster.with(nodes: 2) { cluster in
            let receiver = cluster.systems[1]
            let first = try receiver.makeActor(path: "/sequence/a") { SequenceRecorder(actorSystem: receiver) }
            let second = try receiver.makeActor(path: "/sequence/b") { SequenceRecorder(actorSystem: receiver) }
            let count = 3000
            // Two senders at once, each to its own recorder: each stream keeps its own order.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for recorder in [first, second] {
                    let remote = try SequenceRecorder.resolve(id: recorder.id, using: cluster.systems[0])
                    group.addTask {
                        for number in 0..<count {
                            try await ClusterSystem.oneWay(.reliable) { try await remote.record(number, padding: [UInt8](repeating: 7, count: number % 512)) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let a = try await first.waitForCount(count)
            let b = try await second.waitForCount(count)
            #expect(a == Array(0..<count))
            #expect(b == Array(0..<count))
        }
    }

    @Test func aOneWayCallOfAFunctionReturningAValueFailsWithoutSending() async throws {
        try await TestCluster.with(nodes: 2) { cluster in
            let receiver = cluster.systems[1]
            let recorder = try receiver.makeActor(path: "/sequence") { SequenceRecorder(actorSystem: receiver) }
            let remote = try SequenceRecorder.resolve(id: recorder.id, using: cluster.systems[0])
            let error = await #expect(throws: ClusterError.self) {
                try await ClusterSystem.oneWay { try await remote.count() }
            }
            #expect(error?.code == .serialization)
            try await ClusterSystem.oneWay { try await remote.record(1, padding: []) }
            #expect(try await recorder.waitForCount(1) == [1])
        }
    }

    @Test func underAFullBudgetDroppableCallsAreDroppedAndReliableOnesRefused() async throws {
        try await TestCluster.with(nodes: 2) { cluster in
            let (sender, receiver) = (cluster.systems[0], cluster.systems[1])
            let recorder = try receiver.makeActor(path: "/sequence") { SequenceRecorder(actorSystem: receiver) }
            let remote = try SequenceRecorder.resolve(id: recorder.id, using: sender)
            // Establishes the connection (and interns the target) before the budget fills.
            try await ClusterSystem.oneWay { try await remote.record(0, padding: []) }
            #expect(try await recorder.waitForCount(1) == [0])
            let budget = try #require(sender.outboundBudget(to: receiver.nodeID))

            // As if a peer that stopped reading left the whole budget waiting to be sent.
            budget.force(budget.limit)
            for number in 1...10 {
                try await ClusterSystem.oneWay(.droppable) { try await remote.record(number, padding: []) }
            }
            let refused = await #expect(throws: ClusterError.self) {
                try await ClusterSystem.oneWay(.reliable) { try await remote.record(99, padding: []) }
            }
            #expect(refused?.code == .overloaded)
            budget.release(budget.limit)

            for number in 11...12 {
                try await ClusterSystem.oneWay(.reliable) { try await remote.record(number, padding: []) }
            }
            // Nothing sent under the full budget arrives; what was accepted arrives in order.
            #expect(try await recorder.waitForCount(3) == [0, 11, 12])
        }
    }
}

/// Records the numbers it is sent, in arrival order.
distributed actor SequenceRecorder {
    typealias ActorSystem = ClusterSystem

    private var numbers: [Int] = []
    private var waiters: [(count: Int, continuation: CheckedContinuation<[Int], Never>)] = []

    distributed func record(_ number: Int, padding: [UInt8]) {
        numbers.append(number)
        let ready = waiters.filter { $0.count <= numbers.count }
        waiters.removeAll { $0.count <= numbers.count }
        for waiter in ready { waiter.continuation.resume(returning: numbers) }
    }

    distributed func count() -> Int { numbers.count }

    /// The numbers received, once there are at least `count`.
    distributed func waitForCount(_ count: Int) async -> [Int] {
        if numbers.count >= count { return numbers }
        return await withCheckedContinuation { waiters.append((count, $0)) }
    }
}
