import MeridianChaos
import Testing

@Suite struct SoakCurveTests {
    private static func samples(_ values: [(Int, Int)]) -> [SoakCurve.Sample] {
        values.enumerated().map { SoakCurve.Sample(seconds: Double($0.offset * 10), residentBytes: $0.element.0, openFiles: $0.element.1) }
    }

    @Test func startAndEndAreMediansSoOneOutlierDoesNotDecide() throws {
        let curve = try #require(SoakCurve(Self.samples([(100, 50), (400, 90), (100, 50), (120, 50), (104, 50), (900, 50), (104, 50)])))
        #expect(curve.residentStart == 100)
        #expect(curve.residentEnd == 104)
        #expect(curve.residentPeak == 900)
        #expect(curve.openFilesStart == 50 && curve.openFilesPeak == 90 && curve.openFilesEnd == 50)
        #expect(curve.problems(node: "n", maxResidentGrowth: 0.05).isEmpty)
    }

    @Test func growthPastTheLimitAndAnyMoreOpenFilesAreProblems() throws {
        let curve = try #require(SoakCurve(Self.samples([(100, 50), (100, 50), (100, 50), (106, 51), (106, 51), (106, 51)])))
        let problems = curve.problems(node: "eu-west-1", maxResidentGrowth: 0.05)
        #expect(problems.count == 2)
        #expect(problems.first?.contains("+6.00 %") == true)
        #expect(problems.last?.contains("grew by 1") == true)
    }

    @Test func noSamplesNoCurve() {
        #expect(SoakCurve([]) == nil)
    }
}
