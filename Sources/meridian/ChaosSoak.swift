import Foundation
import MeridianChaos
import MeridianCommandLine
import MeridianTopology

/// `meridian chaos --soak`: the chaos cluster with no faults, `idle` clients holding their
/// connections (a ping every 20 s) beside the playing bots (matches, re-queueing), for
/// `duration`. Every node's resident memory and open files are sampled every `interval` from
/// `/proc`; the curve starts after `warmUp` (every client connected, caches and pools filled).
/// It passes when no node crashed, every client is still connected at the end, matches kept
/// finishing, and no node's resident memory grew more than `maxResidentGrowth` nor its open
/// files at all.
struct ChaosSoak {
    let cluster: ChaosCluster
    let idle: Int
    /// Over how long the idle clients log in (each login creates an account at the identity
    /// authority and signs tokens: 10,000 at once is a launch-day storm, not a soak).
    let idleRamp: Duration
    let duration: Duration
    let warmUp: Duration
    let interval: Duration
    let maxResidentGrowth: Double
    let progress: ChaosProgress

    struct Outcome: Sendable {
        var idle: Int
        var playing: Int
        var durationSeconds: Double
        var curves: [String: SoakCurve]
        var samples: [String: [SoakCurve.Sample]]
        var matchesFinished: Int
        var checks: [ChaosCheck]

        var passed: Bool { checks.allSatisfy(\.passed) }

        func text() -> String {
            var lines = ["", "soak: \(idle) idle and \(playing) playing clients for \(Int(durationSeconds)) s after the warm-up; \(matchesFinished) matches finished"]
            for (node, curve) in curves.sorted(by: { $0.key < $1.key }) { lines.append("  \(node): \(curve.summary)") }
            lines += checks.flatMap(\.reportLines)
            lines.append(passed ? "all \(checks.count) checks passed" : "\(checks.filter { !$0.passed }.count) of \(checks.count) checks failed")
            return lines.joined(separator: "\n")
        }

        func json() -> String {
            let object: [String: Any] = [
                "soak": true, "passed": passed, "idle_clients": idle, "playing_clients": playing,
                "duration_s": durationSeconds, "matches_finished": matchesFinished,
                "nodes": curves.mapValues { curve -> [String: Any] in
                    [
                        "rss_start_bytes": curve.residentStart, "rss_peak_bytes": curve.residentPeak, "rss_end_bytes": curve.residentEnd,
                        "rss_growth": curve.residentGrowth,
                        "open_files_start": curve.openFilesStart, "open_files_peak": curve.openFilesPeak, "open_files_end": curve.openFilesEnd,
                    ]
                },
                "samples": samples.mapValues { $0.map { ["t_s": $0.seconds, "rss_bytes": $0.residentBytes, "open_files": $0.openFiles] as [String: Any] } },
                "checks": checks.map(\.jsonObject),
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// The idle clients' numbers start here, apart from the playing bots' (0 ..< bots); a bot's
    /// place in the ramp is its number minus the first one's.
    static let firstIdleClient = 1_000_000

    func run() async throws -> Outcome {
        let playing = cluster.botCount
        // Dev logins (the chaos topology allows them): the idle clients are about connections
        // held, not about 10,000 account creations at the identity authority.
        let idleClients = try LoadtestWorkerProcess(
            executable: currentExecutablePath(), topology: cluster.topologyPath, players: idle, ramp: idleRamp / .seconds(1),
            duration: (warmUp + duration) / .seconds(1) + 600, idle: true, first: Self.firstIdleClient, count: idle, login: .dev,
            firstBot: Self.firstIdleClient
        )
        defer { idleClients.terminate() }
        progress.say("soak: \(idle) idle clients connecting over \(idleRamp) beside \(playing) playing bots")
        let started = ContinuousClock.now
        let everyoneConnected = started + idleRamp + .seconds(300)
        await idleClients.waitForLine(until: everyoneConnected) { [idle] in $0.report.connected >= idle }
        await cluster.bots?.waitForLine(until: everyoneConnected) { $0.report.connected >= playing }
        progress.say("soak: \(idleClients.latest?.report.connected ?? 0)/\(idle) idle and \(cluster.bots?.latest?.report.connected ?? 0)/\(playing) playing connected; warming up \(warmUp)")
        try await Task.sleep(for: warmUp)

        let curveStart = ContinuousClock.now
        let matchesAtStart = cluster.bots?.latest?.report.matchesFinished ?? 0
        var samples: [String: [SoakCurve.Sample]] = [:]
        var lowestIdleConnected = Int.max
        var nextLine = curveStart
        while true {
            let now = ContinuousClock.now
            let elapsed = now - curveStart
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            for (node, pid) in cluster.supervisor.processIdentifiers {
                guard let resources = ProcessResources.of(pid) else { continue }
                samples[node, default: []].append(.init(seconds: seconds, residentBytes: resources.residentBytes, openFiles: resources.openFiles))
            }
            lowestIdleConnected = min(lowestIdleConnected, idleClients.latest?.report.connected ?? 0)
            if now >= nextLine {
                let memory = samples.sorted { $0.key < $1.key }.compactMap { node, list in
                    list.last.map { "\(node) \($0.residentBytes / 1_048_576) MiB/\($0.openFiles) fds" }
                }
                let bots = cluster.bots?.latest?.report
                progress.say("soak \(Int(seconds)) s: \(memory.joined(separator: ", ")); idle connected \(idleClients.latest?.report.connected ?? 0), playing \(bots?.connected ?? 0), matches finished \((bots?.matchesFinished ?? 0) - matchesAtStart)")
                nextLine = now + .seconds(60)
            }
            if elapsed >= duration { break }
            try await Task.sleep(for: interval)
        }
        let matches = (cluster.bots?.latest?.report.matchesFinished ?? 0) - matchesAtStart
        let endIdle = idleClients.latest?.report.connected ?? 0
        let endPlaying = cluster.bots?.latest?.report.connected ?? 0

        let curves = samples.compactMapValues { SoakCurve($0) }
        var checks: [ChaosCheck] = []
        let exits = cluster.supervisor.unexpectedExits
        checks.append(ChaosCheck(name: "no crash", checked: "\(cluster.topology.nodes.count) node processes", counterexamples: exits))
        var connectionProblems: [String] = []
        if endIdle < idle { connectionProblems.append("\(idle - endIdle) of \(idle) idle clients not connected at the end") }
        if lowestIdleConnected < idle { connectionProblems.append("idle clients connected fell to \(lowestIdleConnected) during the soak") }
        if endPlaying < playing { connectionProblems.append("\(playing - endPlaying) of \(playing) playing bots not connected at the end") }
        if idleClients.latest?.report.errors.isEmpty == false { connectionProblems.append("idle clients' errors: \(idleClients.latest!.report.errors)") }
        checks.append(ChaosCheck(name: "clients stay connected", checked: "\(idle) idle and \(playing) playing clients, sampled every \(interval)", counterexamples: connectionProblems))
        checks.append(ChaosCheck(name: "matches keep finishing", checked: "\(matches) matches finished during the soak", counterexamples: playing > 0 && matches == 0 ? ["no match finished"] : []))
        let growth = curves.sorted { $0.key < $1.key }.flatMap { $0.value.problems(node: $0.key, maxResidentGrowth: maxResidentGrowth) }
        let missing = cluster.topology.nodes.map(\.id).filter { curves[$0] == nil }.map { "\($0): never sampled" }
        checks.append(ChaosCheck(
            name: "no growth",
            checked: "resident memory (at most +\(Int(maxResidentGrowth * 100)) %) and open files (none more) of \(curves.count) nodes, from the medians of the first and last \(SoakCurve.window) samples",
            counterexamples: growth + missing
        ))
        return Outcome(
            idle: idle, playing: playing, durationSeconds: Double(duration.components.seconds), curves: curves, samples: samples,
            matchesFinished: matches, checks: checks
        )
    }
}
