import Testing
@testable import MeridianStorage

@Suite struct ProgressionCurveTests {
    @Test func documentedLevels() {
        #expect(ProgressionCurve.level(forXP: 0) == 1)
        #expect(ProgressionCurve.level(forXP: 99) == 1)
        #expect(ProgressionCurve.level(forXP: 100) == 2)
        #expect(ProgressionCurve.level(forXP: 299) == 2)
        #expect(ProgressionCurve.level(forXP: 300) == 3)
        #expect(ProgressionCurve.level(forXP: 600) == 4)
        #expect(ProgressionCurve.level(forXP: 4_500) == 10)
        #expect(ProgressionCurve.level(forXP: 495_000) == 100)
        #expect(ProgressionCurve.level(forXP: -5) == 1)
    }

    @Test func levelIsTheInverseOfTheRequirement() {
        for level in 1...2_000 {
            let needed = ProgressionCurve.xpRequired(forLevel: level)
            #expect(ProgressionCurve.level(forXP: needed) == level)
            if needed > 0 { #expect(ProgressionCurve.level(forXP: needed - 1) == level - 1) }
        }
        #expect(ProgressionCurve.level(forXP: .max) > 1_000_000)
    }
}
