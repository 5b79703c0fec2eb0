/// One node's resident memory and open files over a soak, from samples taken after the
/// warm-up: where they started, their peak and where they ended, and whether they grew.
///
/// Start and end are medians of the first and last ``window`` samples, so one sample taken
/// during a garbage burst or a reconnect does not decide the verdict.
public struct SoakCurve: Sendable, Codable, Equatable {
    public struct Sample: Sendable, Codable, Equatable {
        public var seconds: Double
        public var residentBytes: Int
        public var openFiles: Int

        public init(seconds: Double, residentBytes: Int, openFiles: Int) {
            self.seconds = seconds
            self.residentBytes = residentBytes
            self.openFiles = openFiles
        }
    }

    public static let window = 3

    public var residentStart: Int
    public var residentPeak: Int
    public var residentEnd: Int
    public var openFilesStart: Int
    public var openFilesPeak: Int
    public var openFilesEnd: Int

    /// (end − start) / start.
    public var residentGrowth: Double {
        residentStart > 0 ? Double(residentEnd - residentStart) / Double(residentStart) : 0
    }

    public var openFilesGrowth: Int { openFilesEnd - openFilesStart }

    /// nil without samples.
    public init?(_ samples: [Sample]) {
        guard !samples.isEmpty else { return nil }
        func median(_ values: [Int]) -> Int { values.sorted()[values.count / 2] }
        let first = samples.prefix(Self.window), last = samples.suffix(Self.window)
        residentStart = median(first.map(\.residentBytes))
        residentEnd = median(last.map(\.residentBytes))
        residentPeak = samples.map(\.residentBytes).max()!
        openFilesStart = median(first.map(\.openFiles))
        openFilesEnd = median(last.map(\.openFiles))
        openFilesPeak = samples.map(\.openFiles).max()!
    }

    /// What breaks the soak's goals: resident memory grown more than `maxResidentGrowth`
    /// (0.05: 5 %), or more open files at the end than at the start.
    public func problems(node: String, maxResidentGrowth: Double) -> [String] {
        var problems: [String] = []
        if residentGrowth > maxResidentGrowth {
            problems.append("\(node): resident memory grew \(Self.percent(residentGrowth)) (\(Self.mebibytes(residentStart)) → \(Self.mebibytes(residentEnd)); at most \(Self.percent(maxResidentGrowth)))")
        }
        if openFilesGrowth > 0 {
            problems.append("\(node): open files grew by \(openFilesGrowth) (\(openFilesStart) → \(openFilesEnd))")
        }
        return problems
    }

    public var summary: String {
        "RSS \(Self.mebibytes(residentStart)) → peak \(Self.mebibytes(residentPeak)) → \(Self.mebibytes(residentEnd)) (\(Self.percent(residentGrowth))), "
            + "open files \(openFilesStart) → peak \(openFilesPeak) → \(openFilesEnd)"
    }

    static func mebibytes(_ bytes: Int) -> String {
        let tenths = (bytes * 10 + 524_288) / 1_048_576
        return "\(tenths / 10).\(tenths % 10) MiB"
    }

    static func percent(_ ratio: Double) -> String {
        let hundredths = Int((ratio * 10_000).rounded())
        let sign = hundredths < 0 ? "-" : "+"
        let magnitude = abs(hundredths)
        return "\(sign)\(magnitude / 100).\(magnitude % 100 < 10 ? "0" : "")\(magnitude % 100) %"
    }
}
