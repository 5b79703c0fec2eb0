import Foundation
import MeridianMatchmaking
import Testing

@Suite("Queue")
struct PoolQueueTests {
    @Test("a player already queued in another ticket is refused until that ticket leaves")
    func duplicatePlayer() throws {
        var factory = TicketFactory()
        var pool = MatchmakingPool(region: "eu-west", neighbours: [])
        let first = factory.solo(1500)
        try pool.enqueue(first)
        var second = factory.ticket(ratings: [1500, 1500])
        second.players[1] = first.players[0]
        do {
            try pool.enqueue(second)
            Issue.record("the duplicate player was accepted")
        } catch {
            #expect(error.code == .duplicatePlayer)
            #expect(error.message.contains(first.id.uuidString))
        }
        #expect(pool.queuedTickets == 1)
        pool.cancel(first.id)
        try pool.enqueue(second)
        #expect(pool.queuedPlayers == 2)
    }

    @Test("a player twice in one ticket, an empty ticket and a bad rating are refused")
    func invalidTickets() throws {
        var factory = TicketFactory()
        var pool = MatchmakingPool(region: "eu-west", neighbours: [])
        var twice = factory.ticket(ratings: [1500, 1500])
        twice.players[1].id = twice.players[0].id
        #expect { try pool.enqueue(twice) } throws: { ($0 as? MatchmakingError)?.code == .duplicatePlayer }
        var empty = factory.solo(1500)
        empty.players = []
        #expect { try pool.enqueue(empty) } throws: { ($0 as? MatchmakingError)?.code == .emptyTicket }
        var bad = factory.solo(1500)
        bad.players[0].skill.deviation = .nan
        #expect { try pool.enqueue(bad) } throws: { ($0 as? MatchmakingError)?.code == .invalidRating }
        #expect(pool.queuedTickets == 0)
    }

    @Test("enqueueing the same ticket again is a no-op")
    func idempotentEnqueue() throws {
        var factory = TicketFactory()
        var pool = MatchmakingPool(region: "eu-west", neighbours: [], configuration: .init(maxPlayers: 2))
        let ticket = factory.ticket(ratings: [1500])
        try pool.enqueue(ticket)
        try pool.enqueue(ticket)
        _ = pool.pass(now: .zero)
        try pool.enqueue(ticket)
        #expect(pool.queuedTickets == 1)
        #expect(pool.queuedPlayers == 1)
        try pool.enqueue(factory.solo(1510))
        let result = pool.pass(now: .milliseconds(100))
        #expect(result.formed.count == 1)
        #expect(result.formed[0].tickets.count == 2)
    }

    @Test("cancel removes the ticket: it is not matched and its status is notQueued")
    func cancel() throws {
        var factory = TicketFactory()
        var pool = MatchmakingPool(region: "eu-west", neighbours: [], configuration: .init(maxPlayers: 2))
        let kept = factory.solo(1500)
        let cancelled = factory.solo(1500)
        try pool.enqueue(kept)
        try pool.enqueue(cancelled)
        #expect(pool.cancel(cancelled.id) == cancelled)
        #expect(pool.cancel(cancelled.id) == nil)
        #expect(pool.status(of: cancelled.id, now: .zero) == .notQueued)
        #expect(pool.pass(now: .zero).formed.isEmpty)
        #expect(pool.queuedTickets == 1)
        // Cancelled after a pass, too.
        let late = factory.solo(1500)
        try pool.enqueue(late)
        _ = pool.pass(now: .seconds(1)) // matches kept + late
        #expect(pool.queuedTickets == 0)
        #expect(pool.cancel(kept.id) == nil)
    }

    @Test("a 20,000-ticket pool forms full, compatible matches and loses no ticket")
    func largePool() throws {
        var factory = TicketFactory()
        var random = TestRandom(state: 2026)
        let configuration = MatchmakingConfiguration()
        var pool = MatchmakingPool(region: "eu-west", neighbours: ["us-east", "ap-south"], configuration: configuration)
        var tickets: [MatchmakingTicket] = []
        for index in 0..<20_000 {
            let roll = random.next() % 100
            let size = roll < 70 ? 1 : roll < 85 ? 2 : roll < 95 ? 3 : 4
            let ratings = (0..<size).map { _ in random.normal(mean: 1500, sd: 300) }
            // Arrivals spread over 10 s.
            tickets.append(factory.ticket(ratings: ratings, at: .milliseconds(index / 2), rtt: ["eu-west": 40, "us-east": 90, "ap-south": 180]))
        }
        var next = 0
        var matched = Set<UUID>()
        var overflowed = 0
        var formed = 0
        for step in 0...300 {
            let now = Duration.milliseconds(step * 100)
            while next < tickets.count && tickets[next].enqueuedAt <= now {
                try pool.enqueue(tickets[next])
                next += 1
            }
            let result = pool.pass(now: now)
            overflowed += result.overflowed.count
            for overflow in result.overflowed {
                #expect(overflow.region == "us-east")
                #expect(overflow.ticket.visitedRegions == ["eu-west"])
            }
            for match in result.formed {
                formed += 1
                #expect(match.playerCount <= 10 && match.playerCount >= 2)
                let ratings = match.tickets.map(\.averageRating)
                for ticket in match.tickets {
                    #expect(matched.insert(ticket.id).inserted)
                    let window = configuration.window(waited: now - ticket.enqueuedAt)
                    // Both ways: every other ticket's rating is within this ticket's window.
                    let value1 = ratings.allSatisfy { abs($0 - ticket.averageRating) <= window + 1e-9 }
                    #expect(value1)
                    if now - ticket.enqueuedAt < configuration.formWithFewerAfter, ticket.id == match.tickets[0].id {
                        #expect(match.playerCount == 10)
                    }
                }
            }
        }
        #expect(next == tickets.count)
        #expect(matched.count + overflowed + pool.queuedTickets == tickets.count)
        #expect(matched.count > 19_000)
        #expect(formed > 2_500)
        #expect(pool.queuedTickets == 0)
    }

    /// New rules (a catalog publish) apply to the queue as it is: tickets keep their enqueue
    /// time, so a wait served under the old rules counts; a party too large for the new match
    /// size is handed back.
    @Test func reconfiguringKeepsTheQueueAndItsWaits() throws {
        var factory = TicketFactory()
        let patient = MatchmakingConfiguration(minPlayers: 2, maxPlayers: 8, overflowAfter: nil, formWithFewerAfter: .seconds(60))
        var pool = MatchmakingPool(region: "eu-west", neighbours: [], configuration: patient)
        let a = factory.solo(1500)
        let b = factory.solo(1510)
        let party = factory.ticket(ratings: [1500, 1500, 1500, 1500])
        for ticket in [a, b, party] { try pool.enqueue(ticket) }
        #expect(pool.pass(now: .seconds(10)).formed.isEmpty, "6 of 8 players, and 60 s to wait for a full match")

        let quick = MatchmakingConfiguration(minPlayers: 2, maxPlayers: 3, overflowAfter: nil, formWithFewerAfter: .seconds(5))
        let result = pool.reconfigured(quick)
        var reconfigured = result.pool
        #expect(result.refused.map(\.id) == [party.id], "a party of 4 no longer fits a match of 3")
        #expect(reconfigured.queuedTickets == 2)
        #expect(reconfigured.configuration == quick)
        // Enqueued at 0: by 10 s they have waited past the new 5 s, so the smaller match forms now.
        let formed = reconfigured.pass(now: .seconds(10)).formed
        #expect(formed.count == 1)
        #expect(Set(formed.first?.tickets.map(\.id) ?? []) == [a.id, b.id])
    }
}
