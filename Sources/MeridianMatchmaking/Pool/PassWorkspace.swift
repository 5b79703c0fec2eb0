/// One pass's view of the queue, in rating order: flat arrays the sweep reads without touching
/// the tickets, and which positions are still available.
struct PassWorkspace: Sendable {
    let now: Duration
    /// Slot of each position (`byRating` at the start of the pass).
    let slots: [Int]
    let rating: [Double]
    /// Each ticket's window (± rating points) at `now`.
    let window: [Double]
    let size: [Int]
    /// Position of each slot, -1 for slots not in the orders.
    let positionOfSlot: [Int]
    /// Matchable tickets not yet taken by a match or backfill of this pass.
    var available: SkipList
    /// Taken by a match or backfill of this pass.
    private(set) var taken: [Bool]

    init(pool: MatchmakingPool, now: Duration) {
        self.now = now
        let slots = pool.byRating
        self.slots = slots
        var rating = [Double](repeating: 0, count: slots.count)
        var window = [Double](repeating: 0, count: slots.count)
        var size = [Int](repeating: 0, count: slots.count)
        var positionOfSlot = [Int](repeating: -1, count: pool.entries.count)
        var available = SkipList(count: slots.count)
        // The configuration's window(waited:), inlined on seconds: this loop runs over every ticket.
        let nowSeconds = now.matchmakingSeconds
        let (initialWindow, widenPerSecond, maxWindow) = (pool.configuration.initialWindow, pool.configuration.widenPerSecond, pool.configuration.maxWindow)
        for (position, slot) in slots.enumerated() {
            let entry = pool.entries[slot]
            rating[position] = entry.averageRating
            window[position] = min(maxWindow, initialWindow + widenPerSecond * max(0, nowSeconds - entry.enqueuedSeconds))
            size[position] = entry.playerCount
            positionOfSlot[slot] = position
            if !entry.alive || !pool.isMatchable(entry, now: now) { available.remove(position) }
        }
        self.rating = rating
        self.window = window
        self.size = size
        self.positionOfSlot = positionOfSlot
        self.available = available
        self.taken = [Bool](repeating: false, count: slots.count)
    }

    mutating func take(_ position: Int) {
        self.available.remove(position)
        self.taken[position] = true
    }

    /// The first position whose rating is ≥ `value` (binary search; `count` if none).
    func firstPosition(atLeast value: Double) -> Int {
        var low = 0
        var high = self.rating.count
        while low < high {
            let middle = (low + high) / 2
            if self.rating[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Walks outward from a rating, nearest first, over available positions.
    struct Outward {
        var left: Int?
        var right: Int?
        let center: Double

        /// The nearest remaining position whose rating is within `floor...ceiling`, or nil
        /// when neither side has one; ties go to the lower rating.
        mutating func next(in work: inout PassWorkspace, floor: Double, ceiling: Double) -> Int? {
            let leftOK = self.left.map { work.rating[$0] >= floor } ?? false
            let rightOK = self.right.map { work.rating[$0] <= ceiling } ?? false
            if leftOK, let left, !rightOK || self.center - work.rating[left] <= work.rating[self.right!] - self.center {
                self.left = work.available.previous(from: left - 1)
                return left
            }
            if rightOK, let right {
                self.right = work.available.next(from: right + 1)
                return right
            }
            return nil
        }
    }

    /// An outward walk around position `anchor` (excluded).
    mutating func outward(around anchor: Int) -> Outward {
        Outward(
            left: self.available.previous(from: anchor - 1),
            right: self.available.next(from: anchor + 1),
            center: self.rating[anchor]
        )
    }

    /// An outward walk around a rating that may not be a ticket's.
    mutating func outward(around value: Double) -> Outward {
        let start = self.firstPosition(atLeast: value)
        return Outward(
            left: self.available.previous(from: start - 1),
            right: self.available.next(from: start),
            center: value
        )
    }
}

/// How far one search may look: bounds each pass's cost when many tickets are incompatible.
enum SearchLimits {
    /// Tickets examined around one anchor.
    static let examinedPerAnchor = 512
    /// Tickets examined around one lobby's rating.
    static let examinedPerLobby = 2_048

    /// Mutually compatible candidates collected around one anchor before packing.
    static func candidates(maxPlayers: Int) -> Int { max(16, 3 * maxPlayers) }
}
