import Foundation
import MeridianIdentity

/// The CPU the cluster's node processes and the load generator used over a load test's steady
/// phase (after the ramp, until the end of the duration), from samples taken once a second.
///
/// Nodes report their own CPU time (``GameNodeStats/cpuSeconds``, so remote nodes count too);
/// the generator's workers are this machine's child processes, read from `/proc`.
struct LoadtestCPU: Sendable {
    struct Sample: Sendable {
        var at: ContinuousClock.Instant
        /// CPU time (user + system) the process used since it started.
        var cpuSeconds: Double
    }

    struct Load: Sendable {
        var at: ContinuousClock.Instant
        /// Bots in a match.
        var playing: Int
        /// Bots with an open connection.
        var connected: Int
    }

    var nodes: [String: [Sample]] = [:]
    /// The generator's workers, summed.
    var generator: [Sample] = []
    var load: [Load] = []

    struct Figures: Sendable {
        var windowSeconds = 0.0
        var averagePlaying = 0.0
        var averageConnected = 0.0
        /// All node processes' CPU milliseconds per second of one client in a match.
        var nodeMsPerPlayingClientSecond: Double?
        /// All node processes' CPU milliseconds per second of one connected client.
        var nodeMsPerConnectedClientSecond: Double?
        /// The generator's CPU milliseconds per second of one connected bot.
        var generatorMsPerBotSecond: Double?
        /// Each node's CPU use over the window, in percent of one core.
        var nodePercent: [String: Double] = [:]
        var generatorPercent: Double?
    }

    /// The figures over `start ... end`: each process's CPU rate between its first and last
    /// sample inside the window, against the average load inside it.
    func figures(from start: ContinuousClock.Instant, to end: ContinuousClock.Instant) -> Figures {
        var figures = Figures()
        figures.windowSeconds = (end - start).seconds
        let loads = load.filter { $0.at >= start && $0.at <= end }
        guard !loads.isEmpty else { return figures }
        figures.averagePlaying = Double(loads.map(\.playing).reduce(0, +)) / Double(loads.count)
        figures.averageConnected = Double(loads.map(\.connected).reduce(0, +)) / Double(loads.count)
        var nodeCores = 0.0
        for (node, samples) in nodes {
            guard let rate = Self.rate(samples, from: start, to: end) else { continue }
            figures.nodePercent[node] = rate * 100
            nodeCores += rate
        }
        if !figures.nodePercent.isEmpty {
            if figures.averagePlaying > 0 { figures.nodeMsPerPlayingClientSecond = nodeCores * 1000 / figures.averagePlaying }
            if figures.averageConnected > 0 { figures.nodeMsPerConnectedClientSecond = nodeCores * 1000 / figures.averageConnected }
        }
        if let rate = Self.rate(generator, from: start, to: end) {
            figures.generatorPercent = rate * 100
            if figures.averageConnected > 0 { figures.generatorMsPerBotSecond = rate * 1000 / figures.averageConnected }
        }
        return figures
    }

    /// CPU seconds per second between the first and the last sample inside the window.
    private static func rate(_ samples: [Sample], from start: ContinuousClock.Instant, to end: ContinuousClock.Instant) -> Double? {
        let inside = samples.filter { $0.at >= start && $0.at <= end }
        guard let first = inside.first, let last = inside.last, last.at > first.at else { return nil }
        return (last.cpuSeconds - first.cpuSeconds) / (last.at - first.at).seconds
    }

    /// User plus system CPU time of process `pid` (Linux `/proc/PID/stat`), nil when unreadable.
    static func cpuSeconds(ofProcess pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")")
        else { return nil }
        // After the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
