import Foundation
import Logging
import MeridianChaos
import MeridianCluster
import MeridianRegion
import MeridianTopology
import MeridianNode

/// Carries out a ``ChaosSchedule`` on a ``ChaosCluster``: each fault at its time, healed at its
/// end — a killed node started again, a paused one resumed, links restored.
struct ChaosFaultInjector: Sendable {
    let cluster: ChaosCluster
    let logger: Logger
    let progress: ChaosProgress

    /// Runs every fault of `schedule`, timed from `start`; returns the faults that could not be
    /// applied or healed, with the reason.
    func run(_ schedule: ChaosSchedule, from start: ContinuousClock.Instant) async -> [String] {
        var problems: [String] = []
        for fault in schedule.faults {
            try? await Task.sleep(until: start + .milliseconds(fault.startMilliseconds))
            progress.say("fault: \(fault)")
            do {
                try await apply(fault.action)
            } catch {
                problems.append("\(fault): not applied: \(error)")
            }
            try? await Task.sleep(until: start + .milliseconds(fault.endMilliseconds))
            do {
                try await heal(fault.action)
            } catch {
                problems.append("\(fault): not healed: \(error)")
            }
        }
        return problems
    }

    private func apply(_ action: ChaosFault.Action) async throws {
        switch action {
        case .kill(let node):
            await cluster.supervisor.kill(node)
        case .pause(let node):
            cluster.supervisor.pause(node, true)
        case .partitionRegions(let a, let b):
            for node in cluster.topology.nodes where node.region == a || node.region == b {
                try await setLinkFaults(on: node.id, regions: [node.region == a ? b : a])
            }
        case .partitionNodes(let a, let b):
            try await setLinkFaults(on: a, nodes: [b])
            try await setLinkFaults(on: b, nodes: [a])
        case .slow(let node, let delay):
            let others = cluster.topology.nodes.map(\.id).filter { $0 != node }
            try await setLinkFaults(on: node, delays: Dictionary(uniqueKeysWithValues: others.map { ($0, Int64(delay)) }))
            for other in others { try await setLinkFaults(on: other, delays: [node: Int64(delay)]) }
        }
    }

    private func heal(_ action: ChaosFault.Action) async throws {
        switch action {
        case .kill(let node):
            try cluster.supervisor.restart(node)
        case .pause(let node):
            cluster.supervisor.pause(node, false)
        case .partitionRegions(let a, let b):
            for node in cluster.topology.nodes where node.region == a || node.region == b {
                try await setLinkFaults(on: node.id)
            }
        case .partitionNodes(let a, let b):
            try await setLinkFaults(on: a)
            try await setLinkFaults(on: b)
        case .slow:
            for node in cluster.topology.nodes { try await setLinkFaults(on: node.id) }
        }
    }

    /// Resumes every node, starts any that is not running, and clears every link fault.
    func healEverything() async -> [String] {
        var problems: [String] = []
        for node in cluster.topology.nodes {
            cluster.supervisor.pause(node.id, false)
            if cluster.supervisor.states[node.id] == false {
                do { try cluster.supervisor.restart(node.id) } catch { problems.append("\(node.id) not restarted: \(error)") }
            }
        }
        for node in cluster.topology.nodes {
            do { try await setLinkFaults(on: node.id) } catch { problems.append("\(node.id): link faults not cleared: \(error)") }
        }
        return problems
    }

    /// Replaces `node`'s link faults (none: all cleared), through its admin gate, retrying for
    /// up to 30 s while the node is unreachable (it may be rejoining after a pause).
    private func setLinkFaults(on node: String, nodes: [String] = [], regions: [String] = [], delays: [String: Int64] = [:]) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        var lastError: any Error = ChaosClusterError("not tried")
        while ContinuousClock.now < deadline {
            do {
                let gate = try AdminGate.resolve(id: ClusterActorID(node: node, incarnation: 0, path: AdminGate.path), using: cluster.client.system)
                try await ClusterSystem.withCallTimeout(.seconds(3)) {
                    try await gate.setLinkFaults(token: cluster.adminToken, partitionedNodes: nodes, partitionedRegions: regions, extraDelayMilliseconds: delays)
                }
                return
            } catch {
                lastError = error
                logger.debug("setting link faults failed; retrying", metadata: ["meridian.node": "\(node)", "meridian.error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        throw lastError
    }
}
