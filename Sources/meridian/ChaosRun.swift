import Foundation
import Logging
import MeridianCatalog
import MeridianChaos
import MeridianTopology
import MeridianCluster
import MeridianMembership
import MeridianStorage
import MeridianTopology

/// One chaos run on a started ``ChaosCluster``: players set up, workload and faults together for
/// `duration`, every fault healed, the cluster given `settle` to converge, then the checkers.
struct ChaosRun {
    let cluster: ChaosCluster
    let seed: UInt64
    let kinds: Set<ChaosFaultKind>
    let players: Int
    let duration: Duration
    let settle: Duration
    let logger: Logger
    let progress: ChaosProgress

    func run() async throws -> ChaosOutcome {
        let lanes = min(4, players / 2)
        let chaosPlayers = try await ChaosWorkload.createPlayers(count: players, lanes: lanes, seed: seed, cluster: cluster, logger: logger)
        progress.say("created \(players) players with 1,000,000 gold each")
        let schedule = Self.schedule(seed: seed, kinds: kinds, duration: duration)
        progress.say("schedule: \(schedule.faults.count) faults \(schedule.counts.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "))")

        let workload = ChaosWorkload(cluster: cluster, seed: seed, players: chaosPlayers, lanes: lanes, logger: logger)
        let injector = ChaosFaultInjector(cluster: cluster, logger: logger, progress: progress)
        let start = ContinuousClock.now
        let faultsEnd = start + duration
        let deadline = faultsEnd + settle
        let botsBefore = cluster.bots?.latest?.report
        async let workloadDone: Void = workload.run(stopIssuing: faultsEnd, deadline: deadline)
        // A line a minute: what the workload and the bots have done so far.
        let reporter = Task { [cluster, progress] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(60))
                guard !Task.isCancelled else { return }
                let tallies = workload.tallies.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.acknowledged)/\($0.value.attempted)" }.joined(separator: ", ")
                let bots = cluster.bots?.latest?.report
                let errors = bots?.errors.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ") ?? ""
                progress.say(
                    "so far: \(tallies); bots connected \(bots?.connected ?? 0)/\(cluster.botCount), queued \(bots?.queued ?? 0), in match \(bots?.matched ?? 0), "
                        + "matches finished \(bots?.matchesFinished ?? 0), lost \(bots?.matchesLost ?? 0)\(errors.isEmpty ? "" : ", errors: \(errors)")"
                )
            }
        }
        defer { reporter.cancel() }
        var harnessProblems = await injector.run(schedule, from: start)
        try? await Task.sleep(until: faultsEnd)
        harnessProblems += await injector.healEverything()
        progress.say("faults over; every fault healed; settling (at most \(settle))")
        let healed = ContinuousClock.now
        let botsAtHeal = cluster.bots?.latest?.report

        // Settle: membership converges, operations under way finish, trades leave escrow, bots play.
        var converged = false
        while ContinuousClock.now < deadline {
            if await cluster.nodesNotUpEverywhere().isEmpty { converged = true; break }
            try? await Task.sleep(for: .seconds(1))
        }
        progress.say(converged ? "membership converged \(ContinuousClock.now - healed) after the heal" : "membership did not converge")
        await workloadDone
        progress.say("workload finished")
        var audit = try await Self.audit(cluster)
        while ContinuousClock.now < deadline, audit.tradeOutcomes.values.contains(where: { !$0.isFinal }) {
            try? await Task.sleep(for: .seconds(2))
            audit = try await Self.audit(cluster)
        }
        let botCount = cluster.botCount
        let finishedAtHeal = botsAtHeal?.matchesFinished ?? 0
        await cluster.bots?.waitForLine(until: deadline) { line in
            line.report.connected >= botCount && line.report.matchesFinished > finishedAtHeal
        }
        let botsAfter = cluster.bots?.latest?.report
        progress.say("settled \(ContinuousClock.now - healed) after the heal; checking")

        let checks = await ChaosCheckers(cluster: cluster, workload: workload, logger: logger).run(
            audit: audit, harnessProblems: harnessProblems, bots: (before: botsBefore, atHeal: botsAtHeal, after: botsAfter)
        )
        return ChaosOutcome(
            schedule: schedule, tallies: workload.tallies, checks: checks,
            matchesFinished: botsAfter?.matchesFinished ?? 0, settledIn: ContinuousClock.now - healed
        )
    }

    /// The faults of a run of `seed` on the chaos cluster's six nodes, whose failure detector
    /// runs the default SWIM settings (pauses are drawn around its bound).
    static func schedule(seed: UInt64, kinds: Set<ChaosFaultKind>, duration: Duration) -> ChaosSchedule {
        let nodes = ChaosCluster.regions.flatMap { region in
            (1...ChaosCluster.nodesPerRegion).map { ChaosSchedule.Node(id: "\(region)-\($0)", region: region) }
        }
        let bound = SWIMBound.milliseconds(memberCount: nodes.count)
        return ChaosSchedule(
            ChaosSchedule.Settings(seed: seed, durationMilliseconds: Int(duration / .milliseconds(1)), kinds: kinds, detectionBoundMilliseconds: bound),
            nodes: nodes
        )
    }

    static func audit(_ cluster: ChaosCluster) async throws -> LedgerAuditReport {
        try await LedgerCommand.Audit.audit(cluster.topology, logger: Logger(label: "meridian.chaos.audit"))
    }
}

/// The failure detector's bound of a cluster of nodes with the default SWIM settings.
enum SWIMBound {
    static func milliseconds(memberCount: Int) -> Int {
        Int(SWIMConfiguration().detectionBound(memberCount: memberCount) / .milliseconds(1))
    }
}
