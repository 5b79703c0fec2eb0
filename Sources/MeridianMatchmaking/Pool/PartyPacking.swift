/// Packing whole parties into one match of at most `capacity` players: a subset sum over
/// party sizes, small because matches are (capacity ≤ a few hundred, candidates ≤ a few dozen).
struct PartyPacking: Sendable {
    /// `reachable[s]`: the anchor plus some of the candidates added so far make exactly s players.
    private(set) var reachable: [Bool]
    let capacity: Int

    init(anchorSize: Int, capacity: Int) {
        self.capacity = capacity
        self.reachable = Array(repeating: false, count: capacity + 1)
        if anchorSize <= capacity { self.reachable[anchorSize] = true }
    }

    var canFill: Bool { self.reachable[self.capacity] }

    mutating func add(_ size: Int) {
        guard size <= self.capacity else { return }
        for total in stride(from: self.capacity, through: size, by: -1) where self.reachable[total - size] {
            self.reachable[total] = true
        }
    }

    /// The largest reachable match size, if it is at least `minimum`.
    func largest(atLeast minimum: Int) -> Int? {
        guard let best = self.reachable.lastIndex(of: true), best >= minimum else { return nil }
        return best
    }

    /// Indices into `sizes` whose sum is `total`, preferring earlier candidates (closer in
    /// rating): candidate i is taken whenever the rest can still be completed from i + 1 on.
    /// Returns nil when no subset sums to `total`.
    static func choose(sizes: [Int], total: Int) -> [Int]? {
        let n = sizes.count
        let width = total + 1
        // completable[i * width + s]: some subset of sizes[i...] sums to s.
        var completable = [Bool](repeating: false, count: (n + 1) * width)
        completable[n * width] = true
        for i in stride(from: n - 1, through: 0, by: -1) {
            for s in 0...total {
                completable[i * width + s] = completable[(i + 1) * width + s]
                    || (sizes[i] <= s && completable[(i + 1) * width + s - sizes[i]])
            }
        }
        guard completable[total] else { return nil }
        var chosen: [Int] = []
        var remaining = total
        for i in 0..<n where remaining > 0 {
            if sizes[i] <= remaining && completable[(i + 1) * width + remaining - sizes[i]] {
                chosen.append(i)
                remaining -= sizes[i]
            }
        }
        return chosen
    }
}
