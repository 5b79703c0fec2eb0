import MeridianMembership
import Testing

@Suite("Update precedence")
struct PrecedenceTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var known: (MemberStatus, UInt64)
        var incoming: (MemberStatus, UInt64)
        var result: (MemberStatus, UInt64)

        init(_ known: (MemberStatus, UInt64), _ incoming: (MemberStatus, UInt64), _ result: (MemberStatus, UInt64)) {
            self.known = known
            self.incoming = incoming
            self.result = result
        }

        var testDescription: String {
            "known \(known.0) g\(known.1) + \(incoming.0) g\(incoming.1) = \(result.0) g\(result.1)"
        }
    }

    static let table: [Case] = [
        // Higher generation wins.
        Case((.up, 1), (.up, 2), (.up, 2)),
        Case((.up, 2), (.up, 1), (.up, 2)),
        Case((.up, 2), (.suspect, 1), (.up, 2)),
        Case((.suspect, 1), (.up, 2), (.up, 2)),  // refutation
        Case((.suspect, 1), (.suspect, 2), (.suspect, 2)),
        // Same generation: down > suspect > up > joining.
        Case((.up, 1), (.suspect, 1), (.suspect, 1)),
        Case((.suspect, 1), (.up, 1), (.suspect, 1)),
        Case((.up, 1), (.up, 1), (.up, 1)),
        Case((.joining, 0), (.up, 0), (.up, 0)),
        Case((.up, 0), (.joining, 0), (.up, 0)),
        Case((.suspect, 1), (.down, 1), (.down, 1)),
        // A confirmed death wins whatever its generation, and is final.
        Case((.up, 3), (.down, 1), (.down, 3)),
        Case((.down, 1), (.up, 5), (.down, 1)),
        Case((.down, 1), (.suspect, 5), (.down, 1)),
        // Removal is local: on the wire it means down.
        Case((.up, 1), (.removed, 1), (.down, 1)),
    ]

    @Test("merging gossip follows the precedence table", arguments: table)
    func merge(_ rule: Case) {
        var machine = Fixture.upMachine()
        Fixture.gossip([Fixture.update("x", rule.known.0, generation: rule.known.1)], to: &machine)
        #expect(machine.member(node: "x")?.status == rule.known.0)

        let directives = Fixture.gossip(
            [Fixture.update("x", rule.incoming.0, generation: rule.incoming.1)],
            to: &machine
        )

        let member = machine.member(node: "x")
        #expect(member?.status == rule.result.0)
        #expect(member?.generation == rule.result.1)
        let expected = rule.result.0 == rule.known.0 ? [] : ["x#1 \(rule.known.0)->\(rule.result.0)"]
        #expect(directives.transitions == expected, "exactly one event per status change")
    }

    @Test("supersedes(status:generation:) agrees with the table", arguments: table)
    func supersedes(_ rule: Case) {
        let incoming = Fixture.update("x", rule.incoming.0, generation: rule.incoming.1)
        let applies = incoming.supersedes(status: rule.known.0, generation: rule.known.1)
        let changed = rule.result != rule.known
        #expect(applies == changed || (rule.incoming.0 == .removed && applies))
    }

    @Test("statuses are ordered joining < up < suspect < down < removed")
    func statusOrder() {
        #expect(MemberStatus.allCases.sorted() == [.joining, .up, .suspect, .down, .removed])
        #expect(MemberStatus.allCases.filter(\.isTerminal) == [.down, .removed])
    }

    @Test("an update from an older incarnation than the one we know is ignored")
    func olderIncarnationIgnored() {
        var machine = Fixture.upMachine()
        Fixture.gossip([Fixture.update("x", incarnation: 2)], to: &machine)

        let directives = Fixture.gossip([Fixture.update("x", incarnation: 1, .suspect, generation: 9)], to: &machine)

        #expect(directives.changes.isEmpty)
        #expect(machine.member(node: "x")?.id.incarnation == 2)
        #expect(machine.member(node: "x")?.status == .up)
    }

    @Test("a removed incarnation stays removed: stale gossip does not bring it back")
    func tombstones() {
        var configuration = SWIMConfiguration()
        configuration.removalDelay = .seconds(1)
        var machine = Fixture.upMachine(configuration: configuration)
        Fixture.gossip([Fixture.update("x")], to: &machine)
        Fixture.gossip([Fixture.update("x", .down)], to: &machine)
        let removal = machine.tick(now: SWIMInstant(.seconds(1)))
        #expect(removal.transitions == ["x#1 down->removed"])
        #expect(machine.member(node: "x") == nil)

        let stale = Fixture.gossip(
            [Fixture.update("x", .up, generation: 7)],
            to: &machine,
            now: SWIMInstant(.seconds(2))
        )

        #expect(stale.changes.isEmpty)
        #expect(machine.member(node: "x") == nil)
        #expect(machine.isRemoved(MemberID(node: "x", incarnation: 1)))
        // A restart is a new incarnation and is welcome.
        let restarted = Fixture.gossip(
            [Fixture.update("x", incarnation: 2)],
            to: &machine,
            now: SWIMInstant(.seconds(3))
        )
        #expect(restarted.transitions == ["x#2 nil->up"])
    }
}
