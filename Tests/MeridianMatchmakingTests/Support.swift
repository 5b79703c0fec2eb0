import Foundation
import MeridianMatchmaking

/// Deterministic ids: the same test builds the same UUIDs.
func testID(_ n: Int, kind: UInt8 = 0) -> UUID {
    var bytes = [UInt8](repeating: 0, count: 16)
    bytes[0] = kind
    var value = UInt64(n)
    for index in (8..<16).reversed() {
        bytes[index] = UInt8(value & 0xFF)
        value >>= 8
    }
    return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                       bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
}

/// Makes tickets with fresh ids and players.
struct TicketFactory {
    private var next = 0

    mutating func ticket(
        ratings: [Double],
        at enqueuedAt: Duration = .zero,
        rtt: [String: Int] = ["eu-west": 30],
        visited: [String] = []
    ) -> MatchmakingTicket {
        self.next += 1
        let ticketNumber = self.next
        let players = ratings.map { rating -> TicketPlayer in
            self.next += 1
            return TicketPlayer(id: testID(self.next, kind: 1), skill: SkillRating(rating: rating, deviation: 80, volatility: 0.06))
        }
        return MatchmakingTicket(id: testID(ticketNumber, kind: 2), players: players, rttMilliseconds: rtt, enqueuedAt: enqueuedAt, visitedRegions: visited)
    }

    mutating func solo(_ rating: Double, at enqueuedAt: Duration = .zero, rtt: [String: Int] = ["eu-west": 30]) -> MatchmakingTicket {
        self.ticket(ratings: [rating], at: enqueuedAt, rtt: rtt)
    }
}

/// SplitMix64, for generated pools.
struct TestRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(self.next() >> 11) / Double(1 << 53) }
    mutating func normal(mean: Double, sd: Double) -> Double {
        let u1 = max(self.unit(), 1e-300)
        let u2 = self.unit()
        return mean + sd * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

extension TicketStatus {
    var reason: String? {
        if case .waiting(let reason, _, _) = self { return reason }
        return nil
    }
}
