import Foundation

extension MatchmakingPool {
    /// Where a ticket stands at `now`: ``TicketStatus/notQueued`` when it is not in this pool,
    /// else why it is still waiting, its window and how long it has waited.
    ///
    /// The reason is the first that holds of: too far from this region; past its overflow
    /// deadline (leaving at the next pass); a party too big for the lobbies that would take it;
    /// too few players queued within its window; waiting for a full match; too few tickets
    /// compatible both ways (from the last pass that tried it as anchor).
    public func status(of ticketID: UUID, now: Duration) -> TicketStatus {
        guard let slot = self.slotOfTicket[ticketID] else { return .notQueued }
        let entry = self.entries[slot]
        let ticket = self.tickets[slot]
        let waited = now - entry.enqueuedAt
        let window = self.configuration.window(waited: waited)
        return .waiting(reason: self.reason(for: entry, ticket: ticket, waited: waited, window: window, now: now), window: window, waited: waited)
    }

    /// The queued tickets that waited longest at `now`, at most `limit`, each with what
    /// ``status(of:now:)`` says: for operators asking why a queue does not drain.
    public func longestWaiting(now: Duration, limit: Int) -> [(ticket: MatchmakingTicket, status: TicketStatus)] {
        let oldest = self.slotOfTicket.values.sorted { self.entries[$0].enqueuedAt < self.entries[$1].enqueuedAt }.prefix(max(0, limit))
        return oldest.map { slot in (self.tickets[slot], self.status(of: self.tickets[slot].id, now: now)) }
    }

    private func reason(for entry: PoolEntry, ticket: MatchmakingTicket, waited: Duration, window: Double, now: Duration) -> String {
        let configuration = self.configuration
        if entry.highRTT, !self.isMatchable(entry, now: now) {
            let rtt = ticket.rttMilliseconds[self.region] ?? 0
            let tooFar = "RTT \(rtt) ms to \(self.region) is above the \(configuration.maxRTTMilliseconds) ms limit"
            if let closer = self.closerRegion(for: ticket) {
                return "\(tooFar); moving to \(closer.region) (RTT \(closer.rtt) ms) at the next pass"
            }
            let after = configuration.overflowAfter.map(ReasonFormat.seconds) ?? "0 s"
            return "\(tooFar) and no unvisited region is closer; matched here only after \(after) (\(ReasonFormat.seconds(waited)) waited)"
        }

        if let deadline = self.overflowDeadline(of: entry), now > deadline, let region = self.overflowDestination(for: ticket) {
            let after = ReasonFormat.seconds(configuration.overflowAfter ?? .zero)
            return "not matched here within \(after); moving to \(region) at the next pass (\(ReasonFormat.seconds(waited)) waited)"
        }
        if entry.playerCount > 1, let seats = entry.lobbySeatsShort {
            return "party of \(entry.playerCount) needs \(entry.playerCount) free seats; best candidate match has \(seats)"
        }
        let fullOnly = waited < configuration.formWithFewerAfter
        let need = fullOnly ? configuration.maxPlayers : configuration.minPlayers
        let nearby = self.queuedPlayers(ratedWithin: (entry.averageRating - window)...(entry.averageRating + window))
        let within = "within ±\(ReasonFormat.points(window)) rating"
        if nearby < need {
            return "pool has \(nearby) players \(within), need \(need)"
        }
        if fullOnly {
            var text = "waiting for a full match of \(configuration.maxPlayers) until \(ReasonFormat.seconds(configuration.formWithFewerAfter)) (\(ReasonFormat.seconds(waited)) waited)"
            if let search = entry.lastSearch {
                text += "; the best compatible group has \(search.bestFit) players"
            }
            return text
        }
        guard let search = entry.lastSearch else {
            return "waiting for the next matchmaking pass"
        }
        if search.compatiblePlayers < need {
            return "pool has \(nearby) players \(within), but only \(search.compatiblePlayers) are compatible both ways (each inside the other's window), need \(need)"
        }
        if search.bestFit < need {
            return "compatible tickets pack into at most \(search.bestFit) players with parties kept whole, need \(need)"
        }
        return "a match of \(search.bestFit) can form at the next pass"
    }

    /// Players in queued tickets whose average rating is in `range`: the last pass's index,
    /// corrected for tickets enqueued or cancelled since.
    func queuedPlayers(ratedWithin range: ClosedRange<Double>) -> Int {
        var count = self.statusIndex.players(in: range)
        for slot in self.arrivals where self.entries[slot].alive && range.contains(self.entries[slot].averageRating) {
            count += self.entries[slot].playerCount
        }
        // Released since the last pass and already indexed by it (cancelled since).
        for slot in self.released where self.entries[slot].arrivedAt != nil && range.contains(self.entries[slot].averageRating) {
            count -= self.entries[slot].playerCount
        }
        return count
    }
}
