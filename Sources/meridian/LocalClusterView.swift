import Foundation
import MeridianCatalog
import MeridianCluster
import MeridianTopology

/// What `meridian local` shows: per region, its nodes with process and membership state.
struct LocalClusterView {
    var elapsed: Duration
    var answeredBy: String?
    var members: [MemberSnapshot]
    /// Catalog version each node serves (nil: not answering or none yet).
    var catalogVersions: [String: UInt64]
    var processes: [String: Bool]
    var regions: [String]
    var nodesByRegion: [String: [String]]

    static func collect(client: StatusClient, supervisor: NodeSupervisor, since start: ContinuousClock.Instant) async -> LocalClusterView {
        let answer = await client.firstAnswer(timeout: .milliseconds(500))
        var nodesByRegion: [String: [String]] = [:]
        for node in client.topology.nodes { nodesByRegion[node.region, default: []].append(node.id) }
        let reports = await CatalogAdmin(system: client.system).reports(
            nodes: client.topology.nodes.map { ($0.id, $0.region) },
            timeout: .milliseconds(300)
        )
        var catalogVersions: [String: UInt64] = [:]
        for report in reports { catalogVersions[report.node] = report.version }
        return LocalClusterView(
            elapsed: ContinuousClock.now - start,
            answeredBy: answer?.0,
            members: answer?.1 ?? [],
            catalogVersions: catalogVersions,
            processes: supervisor.states,
            regions: client.topology.regions.map(\.name),
            nodesByRegion: nodesByRegion
        )
    }

    func render(ansi: Bool) -> String {
        var lines: [String] = []
        let seconds = Int(elapsed.components.seconds)
        lines.append("Meridian local cluster — \(seconds) s — membership as seen by \(answeredBy ?? "(no node answering yet)")")
        lines.append("")
        for region in regions {
            let nodes = nodesByRegion[region] ?? []
            let upCount = nodes.filter { node in members.contains { $0.node == node && $0.state == "up" } }.count
            lines.append("[\(region)] \(upCount)/\(nodes.count) nodes up")
            for node in nodes {
                let member = members.first { $0.node == node }
                let process = processes[node] == true ? "running" : "exited"
                let state = member?.state ?? "unknown"
                let incarnation = member.map { "\($0.incarnation)" } ?? "-"
                let seen = member?.lastSeenMillisecondsAgo.map { "\($0) ms" } ?? "-"
                let catalog = catalogVersions[node].map { "v\($0)" } ?? "-"
                lines.append("  \(pad(node, 12)) process \(pad(process, 8)) state \(pad(state, 8)) incarnation \(pad(incarnation, 17)) catalog \(pad(catalog, 5)) last seen \(seen)")
            }
            lines.append("")
        }
        lines.append("Ctrl-C stops every node. Another terminal: meridian status --topology Topology/local.yaml --secret-file data/local-cluster.secret")
        let body = lines.joined(separator: "\n") + "\n"
        return ansi ? "\u{1B}[H\u{1B}[2J" + body : body + "\n"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0)
    }
}
