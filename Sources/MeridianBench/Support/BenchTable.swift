/// Human-readable report of ``BenchResult``s: one row per result, then throughput ratios
/// such as `meridian / grpc at 256 in flight: 5.3×`.
package enum BenchTable {
    /// A throughput comparison: `numerator`'s calls/s over `denominator`'s, at every in-flight
    /// count where both cases have a result.
    package struct Ratio: Sendable, Hashable {
        package var numerator: String
        package var denominator: String

        package init(_ numerator: String, over denominator: String) {
            self.numerator = numerator
            self.denominator = denominator
        }
    }

    /// The table followed by the ratio lines, ending with a newline.
    package static func render(_ results: [BenchResult], ratios: [Ratio] = []) -> String {
        let header = ["case", "in flight", "calls/s", "p50 µs", "p99 µs", "p99.9 µs", "max µs", "calls"]
        let rows = results.map { result in
            [
                result.case,
                String(result.inflight),
                formatRate(result.callsPerSecond),
                formatMicroseconds(result.p50Microseconds),
                formatMicroseconds(result.p99Microseconds),
                formatMicroseconds(result.p999Microseconds),
                result.maxMicroseconds.map(formatMicroseconds) ?? "-",
                result.calls.map(String.init) ?? "-",
            ]
        }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            // The case name is left-aligned, the numbers right-aligned.
            cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }

        var output = line(header) + "\n"
        output += String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)) + "\n"
        for row in rows {
            output += line(row) + "\n"
        }
        let ratioLines = self.ratioLines(results, ratios: ratios)
        if !ratioLines.isEmpty {
            output += "\n" + ratioLines.joined(separator: "\n") + "\n"
        }
        return output
    }

    /// `"<numerator> / <denominator> at <n> in flight: <ratio>×"` for every in-flight count that
    /// both cases measured, in the order of `ratios` then of in-flight counts.
    package static func ratioLines(_ results: [BenchResult], ratios: [Ratio]) -> [String] {
        var lines: [String] = []
        for ratio in ratios {
            let numerators = results.filter { $0.case == ratio.numerator }
            for numerator in numerators.sorted(by: { $0.inflight < $1.inflight }) {
                guard
                    let denominator = results.first(where: {
                        $0.case == ratio.denominator && $0.inflight == numerator.inflight
                    }),
                    denominator.callsPerSecond > 0
                else { continue }
                let value = numerator.callsPerSecond / denominator.callsPerSecond
                lines.append(
                    "\(ratio.numerator) / \(ratio.denominator) at \(numerator.inflight) in flight: "
                        + "\(formatFixed(value, decimals: value < 1 ? 2 : 1))×"
                )
            }
        }
        return lines
    }

    /// Prints ``render(_:ratios:)`` to standard output.
    package static func print(_ results: [BenchResult], ratios: [Ratio] = []) {
        Swift.print(self.render(results, ratios: ratios), terminator: "")
    }

    /// 312.4k, 1.25M, 950.
    static func formatRate(_ value: Double) -> String {
        switch value {
        case 1e6...: formatFixed(value / 1e6, decimals: 2) + "M"
        case 1e4...: formatFixed(value / 1e3, decimals: 1) + "k"
        default: formatFixed(value, decimals: 0)
        }
    }

    /// About three significant digits, whole microseconds from 1 ms: 3.07, 41.2, 312.5, 1250.
    static func formatMicroseconds(_ value: Double) -> String {
        switch value {
        case 1000...: formatFixed(value, decimals: 0)
        case 10...: formatFixed(value, decimals: 1)
        default: formatFixed(value, decimals: 2)
        }
    }

    /// `value` with exactly `decimals` decimals, without Foundation's `String(format:)`.
    static func formatFixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return String(value) }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = (scaled / scale).rounded(.down)
        let fraction = Int(scaled - whole * scale)
        let sign = value < 0 && scaled > 0 ? "-" : ""
        guard decimals > 0 else { return sign + String(Int(whole)) }
        let digits = String(fraction)
        return sign + String(Int(whole)) + "." + String(repeating: "0", count: decimals - digits.count) + digits
    }
}
