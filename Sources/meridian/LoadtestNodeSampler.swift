import MeridianGame
import MeridianTopology

/// What one node did during a load test, from its ``GameFront/nodeStats()`` once a second.
struct LoadtestNodeFigures: Sendable {
    var region: String
    /// Ticks run during the test and their mean time (exact: from the node's totals).
    var ticks = 0
    var tickMeanMicroseconds = 0.0
    /// The slowest tick of the one-second windows sampled.
    var tickMaxMicroseconds = 0.0
    var peakClients = 0
    var peakActiveMatches = 0
    var peakResidentBytes = 0
    /// Actors on the node (players in memory, matches, shards): at its peak and when sampling stopped.
    var peakActors = 0
    var actorsAtEnd = 0
    /// The node's CPU time at every sample (see ``LoadtestCPU``).
    var cpu: [LoadtestCPU.Sample] = []
}

/// Samples every node's game figures once a second until cancelled (the nodes are asked as a
/// tool client of the cluster, so this needs the cluster secret).
struct LoadtestNodeSampler {
    let client: StatusClient

    func run() async -> [String: LoadtestNodeFigures] {
        var first: [String: GameNodeStats] = [:]
        var last: [String: GameNodeStats] = [:]
        var figures: [String: LoadtestNodeFigures] = [:]
        let regions = Dictionary(uniqueKeysWithValues: client.topology.nodes.map { ($0.id, $0.region) })
        while !Task.isCancelled {
            for (node, stats) in await client.gameStats(timeout: .milliseconds(800)) {
                let at = ContinuousClock.now
                if first[node] == nil { first[node] = stats }
                last[node] = stats
                var sample = figures[node] ?? LoadtestNodeFigures(region: regions[node] ?? "?")
                sample.tickMaxMicroseconds = max(sample.tickMaxMicroseconds, stats.tickMaxMicroseconds)
                sample.peakClients = max(sample.peakClients, stats.onlineClients)
                sample.peakActiveMatches = max(sample.peakActiveMatches, stats.matchesByPhase["active", default: 0])
                sample.peakResidentBytes = max(sample.peakResidentBytes, stats.residentBytes)
                sample.peakActors = max(sample.peakActors, stats.localActors)
                sample.actorsAtEnd = stats.localActors
                if stats.cpuSeconds > 0 { sample.cpu.append(LoadtestCPU.Sample(at: at, cpuSeconds: stats.cpuSeconds)) }
                figures[node] = sample
            }
            try? await Task.sleep(for: .seconds(1))
        }
        for (node, end) in last {
            guard let start = first[node] else { continue }
            let ticks = end.ticksSinceStart - start.ticksSinceStart
            figures[node]?.ticks = ticks
            figures[node]?.tickMeanMicroseconds = ticks == 0 ? 0 : (end.tickMicrosecondsSinceStart - start.tickMicrosecondsSinceStart) / Double(ticks)
        }
        return figures
    }
}
