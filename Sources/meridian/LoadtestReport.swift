import Foundation
import MeridianLatency

/// What one load-generator worker process saw; workers send it to the parent as one JSON line
/// per second (a control channel, not a hot path) and the parent adds them up.
struct LoadtestReport: Codable, Sendable {
    var bots = 0
    var started = 0
    var connected = 0
    var loggedIn = 0
    var queued = 0
    var matched = 0
    var matchesFinished = 0
    /// Matches that ended for the bot without a played result (`server_lost`, or over while
    /// the bot was reconnecting).
    var matchesLost = 0
    var disconnects = 0
    /// Hand-overs by a leaving gateway (a `Redirect` followed).
    var redirects = 0
    /// Bots whose nearest-region choice was the region of their simulated location.
    var onNearestRegion = 0
    /// The bots that chose another region than their location's, with what they measured
    /// (the first ``maxOffNearestRecorded`` of them): a choice follows the measured round
    /// trips, and a starved machine can make a near region measure slower than a far one.
    var offNearestRegion: [OffNearestRegion] = []
    var errors: [String: Int] = [:]
    var botsByRegion: [String: Int] = [:]
    /// Bytes received by bots while their matches were active, and the seconds they played:
    /// their ratio is the downstream bandwidth of one playing client.
    var bytesReceived: UInt64 = 0
    var playingSeconds: Double = 0
    /// Latencies as HdrHistogram buckets `[nanoseconds, count]` (see `LatencyRecorder.buckets`).
    var connectionSetup: [[UInt64]] = []
    var timeToMatch: [[UInt64]] = []
    var inputToDelta: [[UInt64]] = []
    /// From a playing bot's redirect to its first snapshot at the new gateway.
    var handOver: [[UInt64]] = []

    mutating func add(_ other: LoadtestReport) {
        bots += other.bots
        started += other.started
        connected += other.connected
        loggedIn += other.loggedIn
        queued += other.queued
        matched += other.matched
        matchesFinished += other.matchesFinished
        matchesLost += other.matchesLost
        disconnects += other.disconnects
        redirects += other.redirects
        onNearestRegion += other.onNearestRegion
        offNearestRegion = Array((offNearestRegion + other.offNearestRegion).prefix(Self.maxOffNearestRecorded))
        errors.merge(other.errors, uniquingKeysWith: +)
        botsByRegion.merge(other.botsByRegion, uniquingKeysWith: +)
        bytesReceived += other.bytesReceived
        playingSeconds += other.playingSeconds
        connectionSetup += other.connectionSetup
        timeToMatch += other.timeToMatch
        inputToDelta += other.inputToDelta
        handOver += other.handOver
    }

    static let maxOffNearestRecorded = 50

    /// A bot that chose a region other than its location's, and the round trips it measured.
    struct OffNearestRegion: Codable, Sendable {
        var location: String
        var chosen: String
        /// The lowest sample per region that answered, in milliseconds.
        var rttMilliseconds: [String: Double]
    }

    /// Bytes per second one playing client received (0 before anyone played).
    var downstreamBytesPerSecond: Double {
        playingSeconds > 0 ? Double(bytesReceived) / playingSeconds : 0
    }

    static func recorder(_ buckets: [[UInt64]]) -> LatencyRecorder {
        var recorder = LatencyRecorder(resolution: .microseconds, highestTrackable: .seconds(600))
        recorder.record(buckets: buckets)
        return recorder
    }
}

extension Duration {
    /// This duration in milliseconds, as the load-test and local-cluster reports print it.
    var reportMilliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}

/// One line a worker prints: progress while it runs, the final report when it is done.
struct LoadtestWorkerLine: Codable, Sendable {
    var final: Bool
    var report: LoadtestReport
}
