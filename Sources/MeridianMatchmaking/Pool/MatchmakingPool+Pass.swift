extension MatchmakingPool {
    /// One matchmaking pass at `now` (the caller's clock, the origin of every `enqueuedAt`).
    ///
    /// In order: tickets enqueued since the last pass join the rating and age orders; those
    /// too far from this region (RTT above the limit) with a closer unvisited region leave at
    /// once; open lobbies are backfilled; new matches form, oldest anchor first; tickets past
    /// their overflow deadline that are still unmatched leave for the nearest unvisited region.
    /// Every ticket in the result has left the pool.
    public mutating func pass(now: Duration) -> MatchmakingPassResult {
        var result = MatchmakingPassResult()
        self.compact()
        let arrived = self.absorbArrivals(now: now)
        for slot in arrived where self.entries[slot].highRTT {
            guard let closer = self.closerRegion(for: self.tickets[slot]) else { continue }
            result.overflowed.append(Overflow(ticket: self.leaving(self.tickets[slot]), region: closer.region))
            self.remove(slot: slot)
        }

        var work = PassWorkspace(pool: self, now: now)
        for slot in self.byRating { self.entries[slot].lobbySeatsShort = nil }
        self.backfill(&work, into: &result.backfilled)
        self.formMatches(&work, into: &result.formed)

        for slot in self.byAge where self.entries[slot].alive {
            let position = work.positionOfSlot[slot]
            if position >= 0 && work.taken[position] { continue }
            guard let deadline = self.overflowDeadline(of: self.entries[slot]), now > deadline,
                let region = self.overflowDestination(for: self.tickets[slot])
            else { continue }
            result.overflowed.append(Overflow(ticket: self.leaving(self.tickets[slot]), region: region))
            self.remove(slot: slot)
        }

        for (position, slot) in work.slots.enumerated() where work.taken[position] {
            self.remove(slot: slot)
        }
        self.compact()
        self.statusIndex = StatusIndex(self.byRating.map { (self.entries[$0].averageRating, self.entries[$0].playerCount) })
        return result
    }
}
