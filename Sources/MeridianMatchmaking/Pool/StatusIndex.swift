/// Queued players by rating as of the last pass: how many players are within a rating range,
/// in O(log n), for status reasons.
struct StatusIndex: Sendable {
    private var ratings: [Double] = []
    /// `prefixPlayers[i]`: players in the first i tickets by rating.
    private var prefixPlayers: [Int] = [0]

    init() {}

    /// `tickets`: (average rating, players), sorted by rating.
    init(_ tickets: [(rating: Double, players: Int)]) {
        self.ratings = tickets.map(\.rating)
        self.prefixPlayers.reserveCapacity(tickets.count + 1)
        for ticket in tickets { self.prefixPlayers.append(self.prefixPlayers.last! + ticket.players) }
    }

    /// Players in tickets whose average rating is in `range`.
    func players(in range: ClosedRange<Double>) -> Int {
        self.prefixPlayers[self.firstIndex { $0 > range.upperBound }] - self.prefixPlayers[self.firstIndex { $0 >= range.lowerBound }]
    }

    /// The first index whose rating satisfies `predicate` (which must be monotonic).
    private func firstIndex(where predicate: (Double) -> Bool) -> Int {
        var low = 0
        var high = self.ratings.count
        while low < high {
            let middle = (low + high) / 2
            if predicate(self.ratings[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
