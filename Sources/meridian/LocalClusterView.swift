import Distributed
import Foundation
import MeridianLatency
import MeridianCatalog
import MeridianCluster
import MeridianGame
import MeridianTopology

/// What `meridian local` shows: per region, its nodes with process and membership state.
struct LocalClusterView {
    var elapsed: Duration
    var answeredBy: String?
    var members: [MemberSnapshot]
    /// Catalog version each node serves (nil: not answering or none yet).
    var catalogVersions: [String: UInt64]
    var processes: [String: Bool]
    /// Incarnations seen of each node since `meridian local` started: more than one when the
    /// cluster declared the node down and it rejoined (or its process was started again).
    var incarnations: [String: Set<UInt64>] = [:]
    var regions: [String]
    var nodesByRegion: [String: [String]]
    /// Each answering node's game figures.
    var game: [String: GameNodeStats] = [:]
    /// Ledger commands per second per node since the previous view.
    var ledgerRates: [String: Double] = [:]
    /// The simulated players, if `meridian local` runs them.
    var bots: LoadtestReport?

    static func collect(
        client: StatusClient, supervisor: NodeSupervisor, since start: ContinuousClock.Instant,
        previous: LocalClusterView?, bots: LoadtestReport?
    ) async -> LocalClusterView {
        let answer = await client.firstAnswer(timeout: .milliseconds(500))
        var nodesByRegion: [String: [String]] = [:]
        for node in client.topology.nodes { nodesByRegion[node.region, default: []].append(node.id) }
        let reports = await CatalogAdmin(system: client.system).reports(
            nodes: client.topology.nodes.map { ($0.id, $0.region) },
            timeout: .milliseconds(300)
        )
        var catalogVersions: [String: UInt64] = [:]
        for report in reports { catalogVersions[report.node] = report.version }
        let game = await client.gameStats(timeout: .milliseconds(500))
        let elapsed = ContinuousClock.now - start
        var rates: [String: Double] = [:]
        if let previous {
            let seconds = max(0.001, Double((elapsed - previous.elapsed).components.seconds) + Double((elapsed - previous.elapsed).components.attoseconds) * 1e-18)
            for (node, stat) in game {
                if let before = previous.game[node] { rates[node] = Double(max(0, stat.ledgerCommands - before.ledgerCommands)) / seconds }
            }
        }
        var incarnations = previous?.incarnations ?? [:]
        for member in answer?.1 ?? [] where member.state == "up" { incarnations[member.node, default: []].insert(member.incarnation) }
        return LocalClusterView(
            elapsed: elapsed,
            answeredBy: answer?.0,
            members: answer?.1 ?? [],
            catalogVersions: catalogVersions,
            processes: supervisor.states,
            incarnations: incarnations,
            regions: client.topology.regions.map(\.name),
            nodesByRegion: nodesByRegion,
            game: game,
            ledgerRates: rates,
            bots: bots
        )
    }

    /// - Parameter console: The web console's sign-in link, shown under the table.
    func render(ansi: Bool, console: String? = nil) -> String {
        var lines: [String] = []
        let seconds = Int(elapsed.components.seconds)
        lines.append("Meridian local cluster — \(seconds) s — membership as seen by \(answeredBy ?? "(no node answering yet)")")
        lines.append("")
        for region in regions {
            let nodes = nodesByRegion[region] ?? []
            let upCount = nodes.filter { node in members.contains { $0.node == node && $0.state == "up" } }.count
            let stats = nodes.compactMap { game[$0] }
            var phases: [String: Int] = [:]
            for stat in stats { phases.merge(stat.matchesByPhase, uniquingKeysWith: +) }
            let phaseText = ["lobby", "countdown", "active", "postgame"].map { "\($0) \(phases[$0] ?? 0)" }.joined(separator: ", ")
            let tickMax = stats.map(\.tickMaxMicroseconds).max() ?? 0
            let ledger = nodes.compactMap { ledgerRates[$0] }.reduce(0, +)
            lines.append(
                "[\(region)] \(upCount)/\(nodes.count) nodes up · online \(stats.map(\.onlineClients).reduce(0, +)) · queued \(stats.map(\.queuedPlayers).reduce(0, +))"
                    + " · matches \(phaseText) · tick max \(String(format: "%.2f", tickMax / 1000)) ms · ledger \(Int(ledger.rounded()))/s"
            )
            for node in nodes {
                let member = members.first { $0.node == node }
                let process = (processes[node] == true ? "running" : "exited") + (incarnations[node].flatMap { $0.count > 1 ? " (rejoined \($0.count - 1)×)" : nil } ?? "")
                let state = member?.state ?? "unknown"
                let incarnation = member.map { "\($0.incarnation)" } ?? "-"
                let seen = member?.lastSeenMillisecondsAgo.map { "\($0) ms" } ?? "-"
                let catalog = catalogVersions[node].map { "v\($0)" } ?? "-"
                let matches = game[node].map { "\($0.matchesByPhase.values.reduce(0, +))" } ?? "-"
                let online = game[node].map { "\($0.onlineClients)" } ?? "-"
                let actors = game[node].map { "\($0.localActors)" } ?? "-"
                lines.append(
                    "  \(pad(node, 12)) process \(pad(process, 8)) state \(pad(state, 8)) incarnation \(pad(incarnation, 17)) catalog \(pad(catalog, 5))"
                        + " online \(pad(online, 5)) actors \(pad(actors, 6)) matches \(pad(matches, 4)) last seen \(seen)"
                )
            }
            lines.append("")
        }
        if let bots {
            let match = LoadtestReport.recorder(bots.timeToMatch)
            let input = LoadtestReport.recorder(bots.inputToDelta)
            let errors = bots.errors.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
            lines.append(
                "bots: \(bots.started)/\(bots.bots) started · \(bots.connected) connected (\(bots.onNearestRegion) on their nearest region) · queued \(bots.queued) · playing \(bots.matched)"
                    + " · matches finished \(bots.matchesFinished)"
            )
            lines.append(
                "      time-to-match p99 \(Self.milliseconds(match.p99)) ms · input→delta p99 \(Self.milliseconds(input.p99)) ms (simulated latency included) · errors \(errors.isEmpty ? "none" : errors)"
            )
            lines.append("")
        }
        if let console { lines.append("Web console (signs in with this run's operator token): \(console)") }
        lines.append("Ctrl-C stops every node. Another terminal: meridian status --topology Topology/local.yaml --secret-file data/local-cluster.secret")
        let body = lines.joined(separator: "\n") + "\n"
        return ansi ? "\u{1B}[H\u{1B}[2J" + body : body + "\n"
    }

    static func milliseconds(_ duration: Duration) -> String {
        String(format: "%.0f", duration.reportMilliseconds)
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0)
    }
}
