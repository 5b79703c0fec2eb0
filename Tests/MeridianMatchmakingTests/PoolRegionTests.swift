import Foundation
import MeridianMatchmaking
import Testing

@Suite("Overflow, backfill and status")
struct PoolRegionTests {
    let rtt = ["eu-west": 30, "us-east": 90, "ap-south": 200]

    @Test("an unmatched ticket overflows after the bound to the nearest unvisited region, never back")
    func overflowChain() throws {
        var factory = TicketFactory()
        let ticket = factory.solo(1500, rtt: self.rtt)
        var euWest = MatchmakingPool(region: "eu-west", neighbours: ["us-east", "ap-south"])
        try euWest.enqueue(ticket)
        #expect(euWest.pass(now: .seconds(10)).overflowed.isEmpty)
        #expect(euWest.status(of: ticket.id, now: .milliseconds(10_060)).reason == "not matched here within 10 s; moving to us-east at the next pass (10.1 s waited)")
        let first = euWest.pass(now: .milliseconds(10_100)).overflowed
        #expect(first.map(\.region) == ["us-east"])
        #expect(first[0].ticket.visitedRegions == ["eu-west"])
        #expect(first[0].ticket.enqueuedAt == .zero)
        #expect(euWest.queuedTickets == 0)

        // us-east: eu-west is closer but visited; ap-south is next, after another full bound here.
        var usEast = MatchmakingPool(region: "us-east", neighbours: ["eu-west", "ap-south"])
        try usEast.enqueue(first[0].ticket)
        #expect(usEast.pass(now: .milliseconds(10_200)).overflowed.isEmpty)
        #expect(usEast.pass(now: .milliseconds(20_200)).overflowed.isEmpty)
        let second = usEast.pass(now: .milliseconds(20_300)).overflowed
        #expect(second.map(\.region) == ["ap-south"])
        #expect(second[0].ticket.visitedRegions == ["eu-west", "us-east"])

        // ap-south: every other region was visited; the ticket stays.
        var apSouth = MatchmakingPool(region: "ap-south", neighbours: ["us-east", "eu-west"])
        try apSouth.enqueue(second[0].ticket)
        #expect(apSouth.pass(now: .seconds(21)).overflowed.isEmpty)
        #expect(apSouth.pass(now: .seconds(60)).overflowed.isEmpty)
        #expect(apSouth.queuedTickets == 1)
    }

    @Test("without RTT measurements overflow follows the neighbours' order; nil never overflows")
    func overflowByNeighbours() throws {
        var factory = TicketFactory()
        var pool = MatchmakingPool(region: "eu-west", neighbours: ["ap-south", "us-east"])
        try pool.enqueue(factory.solo(1500, rtt: [:]))
        #expect(pool.pass(now: .seconds(11)).overflowed.map(\.region) == ["ap-south"])

        var never = MatchmakingPool(region: "eu-west", neighbours: ["us-east"], configuration: .init(overflowAfter: nil))
        try never.enqueue(factory.solo(1500, rtt: self.rtt))
        #expect(never.pass(now: .seconds(3_600)).overflowed.isEmpty)
    }

    @Test("a ticket too far from this region leaves at once for a closer unvisited one")
    func highRTT() throws {
        var factory = TicketFactory()
        var pool = MatchmakingPool(region: "eu-west", neighbours: ["us-east", "ap-south"], configuration: .init(minPlayers: 2, maxPlayers: 2))
        let far = factory.solo(1500, rtt: ["eu-west": 220, "us-east": 40, "ap-south": 300])
        try pool.enqueue(far)
        #expect(pool.status(of: far.id, now: .zero).reason == "RTT 220 ms to eu-west is above the 150 ms limit; moving to us-east (RTT 40 ms) at the next pass")
        let result = pool.pass(now: .zero)
        #expect(result.overflowed == [Overflow(ticket: MatchmakingTicket(id: far.id, players: far.players, rttMilliseconds: far.rttMilliseconds, enqueuedAt: .zero, visitedRegions: ["eu-west"]), region: "us-east")])

        // Far from everywhere: waits here, unmatched, until it has waited past overflowAfter.
        let stuck = factory.solo(1500, rtt: ["eu-west": 220, "us-east": 250])
        try pool.enqueue(stuck)
        try pool.enqueue(factory.solo(1500))
        #expect(pool.pass(now: .seconds(1)).formed.isEmpty)
        let reason = try #require(pool.status(of: stuck.id, now: .seconds(2)).reason)
        #expect(reason.hasPrefix("RTT 220 ms to eu-west is above the 150 ms limit and no unvisited region is closer"))
        #expect(reason.contains("(2 s waited)"))
        let late = pool.pass(now: .milliseconds(10_100))
        #expect(late.formed.count == 1)
        let value1 = late.formed[0].tickets.contains { $0.id == stuck.id }
        #expect(value1)
    }

    @Test("open lobbies are filled before new matches, nearest ratings first, and their seats shrink")
    func backfill() throws {
        var factory = TicketFactory()
        var pool = MatchmakingPool(region: "eu-west", neighbours: [], configuration: .init(minPlayers: 2, maxPlayers: 4))
        let lobby = testID(1, kind: 9)
        pool.openLobby(matchID: lobby, openSeats: 3, averageRating: 1500, since: .zero)
        let near = [factory.solo(1502), factory.solo(1497), factory.solo(1505)]
        let farther = factory.solo(1560)
        for ticket in near + [farther] { try pool.enqueue(ticket) }
        let result = pool.pass(now: .zero)
        #expect(result.backfilled.count == 1)
        #expect(result.backfilled[0].matchID == lobby)
        #expect(Set(result.backfilled[0].tickets.map(\.id)) == Set(near.map(\.id)))
        #expect(result.formed.isEmpty)
        #expect(pool.openSeats(inLobby: lobby) == nil)
        #expect(pool.queuedTickets == 1)

        // Seats left over stay registered; a closed lobby takes no one.
        let other = testID(2, kind: 9)
        pool.openLobby(matchID: other, openSeats: 5, averageRating: 1560, since: .seconds(1))
        let partial = pool.pass(now: .seconds(1))
        #expect(partial.backfilled.first?.tickets.map(\.id) == [farther.id])
        #expect(pool.openSeats(inLobby: other) == 4)
        pool.closeLobby(matchID: other)
        try pool.enqueue(factory.solo(1560, at: .seconds(2)))
        #expect(pool.pass(now: .seconds(2)).backfilled.isEmpty)
    }

    @Test("status reasons say what the ticket waits for")
    func statusReasons() throws {
        var factory = TicketFactory()
        var pool = MatchmakingPool(region: "eu-west", neighbours: [])
        let first = factory.solo(1500)
        try pool.enqueue(first)
        try pool.enqueue(factory.solo(1550))
        try pool.enqueue(factory.solo(1900))
        // Before and after a pass: at 0.4 s the window is ±120.
        let expected = "pool has 2 players within ±120 rating, need 10"
        #expect(pool.status(of: first.id, now: .milliseconds(400)) == .waiting(reason: expected, window: 120, waited: .milliseconds(400)))
        _ = pool.pass(now: .milliseconds(400))
        #expect(pool.status(of: first.id, now: .milliseconds(400)).reason == expected)
        #expect(pool.status(of: testID(12_345), now: .zero) == .notQueued)

        // Three parties of 3 cannot make 10: waiting for a full match until 5 s.
        var parties = MatchmakingPool(region: "eu-west", neighbours: [])
        let party = factory.ticket(ratings: [1500, 1500, 1500])
        try parties.enqueue(party)
        for _ in 0..<3 { try parties.enqueue(factory.ticket(ratings: [1510, 1510, 1510])) }
        #expect(parties.pass(now: .milliseconds(3_200)).formed.isEmpty)
        #expect(
            parties.status(of: party.id, now: .milliseconds(3_200)).reason
                == "waiting for a full match of 10 until 5 s (3.2 s waited); the best compatible group has 9 players"
        )
        #expect(parties.pass(now: .seconds(5)).formed.first?.playerCount == 9)

        // A party too big for the lobby that would take it.
        var lobbies = MatchmakingPool(region: "eu-west", neighbours: [])
        let four = factory.ticket(ratings: [1500, 1500, 1500, 1500])
        try lobbies.enqueue(four)
        lobbies.openLobby(matchID: testID(3, kind: 9), openSeats: 2, averageRating: 1500, since: .zero)
        #expect(lobbies.pass(now: .seconds(1)).backfilled.isEmpty)
        #expect(lobbies.status(of: four.id, now: .seconds(1)).reason == "party of 4 needs 4 free seats; best candidate match has 2")
    }
}
