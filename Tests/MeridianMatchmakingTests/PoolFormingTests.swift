import Foundation
import MeridianMatchmaking
import Testing

@Suite("Forming matches")
struct PoolFormingTests {
    @Test("a pair outside each other's window at t=0 matches once the windows have widened")
    func windowWidening() throws {
        var factory = TicketFactory()
        var pool = MatchmakingPool(region: "eu-west", neighbours: [], configuration: .init(minPlayers: 2, maxPlayers: 2))
        let low = factory.solo(1500)
        let high = factory.solo(1750)
        try pool.enqueue(low)
        try pool.enqueue(high)
        // 250 apart: windows of 100 + 50/s reach 250 at 3 s.
        #expect(pool.pass(now: .zero).formed.isEmpty)
        #expect(pool.pass(now: .milliseconds(2_900)).formed.isEmpty)
        let result = pool.pass(now: .seconds(3))
        #expect(result.formed.count == 1)
        #expect(Set(result.formed[0].tickets.map(\.id)) == [low.id, high.id])
        #expect(result.formed[0].matchID == nil)
        #expect(result.formed[0].averageRating == 1625)
        #expect(pool.queuedTickets == 0)
        #expect(pool.queuedPlayers == 0)
    }

    @Test("compatibility needs both windows: an old wide ticket does not take a fresh narrow one")
    func bothWindowsMustAccept() throws {
        var factory = TicketFactory()
        var pool = MatchmakingPool(region: "eu-west", neighbours: [], configuration: .init(minPlayers: 2, maxPlayers: 2, overflowAfter: nil))
        try pool.enqueue(factory.solo(1500, at: .zero))
        try pool.enqueue(factory.solo(1700, at: .seconds(10)))
        // At 10 s the first has ±600, the second ±100: not compatible.
        #expect(pool.pass(now: .seconds(10)).formed.isEmpty)
        // At 12 s the second has ±200.
        #expect(pool.pass(now: .seconds(12)).formed.count == 1)
    }

    @Test("only full matches before formWithFewerAfter; then any count of at least minPlayers")
    func fullMatchesFirst() throws {
        var factory = TicketFactory()
        var pool = MatchmakingPool(region: "eu-west", neighbours: [], configuration: .init(minPlayers: 4, maxPlayers: 10))
        for rating in [1500.0, 1510, 1490] { try pool.enqueue(factory.solo(rating)) }
        #expect(pool.pass(now: .milliseconds(4_900)).formed.isEmpty)
        // Past 5 s fewer may form, but 3 is under minPlayers.
        #expect(pool.pass(now: .seconds(6)).formed.isEmpty)
        try pool.enqueue(factory.solo(1505, at: .seconds(6)))
        let result = pool.pass(now: .milliseconds(6_100))
        #expect(result.formed.count == 1)
        #expect(result.formed[0].playerCount == 4)
    }

    @Test("ten solos within each other's windows form one full match at once")
    func fullMatchAtOnce() throws {
        var factory = TicketFactory()
        var pool = MatchmakingPool(region: "eu-west", neighbours: [])
        for index in 0..<12 { try pool.enqueue(factory.solo(1450 + Double(index) * 8)) }
        let result = pool.pass(now: .zero)
        #expect(result.formed.count == 1)
        #expect(result.formed[0].playerCount == 10)
        #expect(pool.queuedTickets == 2)
    }

    @Test("parties are never split and a match never exceeds maxPlayers")
    func partiesStayWhole() throws {
        var factory = TicketFactory()
        let configuration = MatchmakingConfiguration(minPlayers: 2, maxPlayers: 6)
        var pool = MatchmakingPool(region: "eu-west", neighbours: [], configuration: configuration)
        var random = TestRandom(state: 7)
        var queued: [UUID: MatchmakingTicket] = [:]
        for index in 0..<300 {
            let size = 1 + Int(random.next() % 4)
            let ticket = factory.ticket(ratings: (0..<size).map { _ in 1500 + random.normal(mean: 0, sd: 40) }, at: .milliseconds(index * 10))
            queued[ticket.id] = ticket
            try pool.enqueue(ticket)
        }
        var seen = Set<UUID>()
        var formedCount = 0
        for step in 0...100 {
            let now = Duration.milliseconds(step * 100)
            for match in pool.pass(now: now).formed {
                formedCount += 1
                #expect(match.playerCount <= 6)
                #expect(match.playerCount >= 2)
                if now < .seconds(5) { #expect(match.playerCount == 6) }
                for ticket in match.tickets {
                    #expect(ticket == queued[ticket.id], "a matched ticket comes back whole")
                    #expect(seen.insert(ticket.id).inserted, "a ticket is matched once")
                }
            }
        }
        #expect(formedCount > 0)
        #expect(seen.count + pool.queuedTickets == 300)
    }

    @Test("a party as large as a match forms on its own; one larger is refused")
    func partySizes() throws {
        var factory = TicketFactory()
        var pool = MatchmakingPool(region: "eu-west", neighbours: [], configuration: .init(maxPlayers: 4))
        try pool.enqueue(factory.ticket(ratings: [1500, 1600, 1400, 1550]))
        #expect(pool.pass(now: .zero).formed.first?.playerCount == 4)
        #expect(throws: MatchmakingError.self) { try pool.enqueue(factory.ticket(ratings: [1500, 1500, 1500, 1500, 1500])) }
        do {
            try pool.enqueue(factory.ticket(ratings: [1500, 1500, 1500, 1500, 1500]))
        } catch {
            #expect(error.code == .partyTooLarge)
            #expect(error.message.contains("split the party"))
        }
    }

    @Test("parties are packed to fill a match exactly when whole parties can")
    func packing() throws {
        var factory = TicketFactory()
        var pool = MatchmakingPool(region: "eu-west", neighbours: [], configuration: .init(maxPlayers: 10))
        // Nearest first would take 4 + 4 + ... and get stuck at 8; 4 + 3 + 3 fills 10.
        try pool.enqueue(factory.ticket(ratings: [1500, 1500, 1500, 1500]))
        try pool.enqueue(factory.ticket(ratings: [1501, 1501, 1501, 1501]))
        try pool.enqueue(factory.ticket(ratings: [1502, 1502, 1502]))
        try pool.enqueue(factory.ticket(ratings: [1503, 1503, 1503]))
        let result = pool.pass(now: .zero)
        #expect(result.formed.count == 1)
        #expect(result.formed[0].playerCount == 10)
        #expect(pool.queuedPlayers == 4)
    }

    @Test("the same calls give the same matches")
    func deterministic() throws {
        func run() throws -> [[UUID]] {
            var factory = TicketFactory()
            var random = TestRandom(state: 99)
            var pool = MatchmakingPool(region: "eu-west", neighbours: ["us-east"])
            var matches: [[UUID]] = []
            for step in 0..<80 {
                for _ in 0..<20 {
                    let size = random.next() % 5 == 0 ? 2 : 1
                    try pool.enqueue(factory.ticket(ratings: (0..<size).map { _ in random.normal(mean: 1500, sd: 300) }, at: .milliseconds(step * 100)))
                }
                let result = pool.pass(now: .milliseconds(step * 100))
                matches += result.formed.map { $0.tickets.map(\.id) }
            }
            return matches
        }
        let first = try run()
        #expect(!first.isEmpty)
        #expect(try run() == first)
    }
}
