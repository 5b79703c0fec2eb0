extension MatchmakingPool {
    /// The region a ticket overflows to: the unvisited region (other than this one) it measured
    /// the lowest RTT to; without any measurement, the first unvisited of ``neighbours``.
    /// Ties go to the region earlier in ``neighbours``. Nil when every region was visited.
    func overflowDestination(for ticket: MatchmakingTicket) -> String? {
        let candidates = self.neighbours.filter { $0 != self.region && !ticket.visitedRegions.contains($0) }
        var best: (region: String, rtt: Int)?
        for region in candidates {
            guard let rtt = ticket.rttMilliseconds[region] else { continue }
            if best == nil || rtt < best!.rtt { best = (region, rtt) }
        }
        return best?.region ?? candidates.first
    }

    /// For a ticket too far from this region: an unvisited region it measured a lower RTT to
    /// (the lowest), or nil.
    func closerRegion(for ticket: MatchmakingTicket) -> (region: String, rtt: Int)? {
        guard let here = ticket.rttMilliseconds[self.region] else { return nil }
        var best: (region: String, rtt: Int)?
        for region in self.neighbours where region != self.region && !ticket.visitedRegions.contains(region) {
            guard let rtt = ticket.rttMilliseconds[region], rtt < here else { continue }
            if best == nil || rtt < best!.rtt { best = (region, rtt) }
        }
        return best
    }

    /// The ticket as the next region should get it: this region appended to `visitedRegions`.
    func leaving(_ ticket: MatchmakingTicket) -> MatchmakingTicket {
        var ticket = ticket
        if !ticket.visitedRegions.contains(self.region) { ticket.visitedRegions.append(self.region) }
        return ticket
    }

    /// When the ticket is due to leave this pool, if ever: ``MatchmakingConfiguration/overflowAfter``
    /// after it was enqueued, or after it arrived here when it came by overflow.
    func overflowDeadline(of entry: PoolEntry) -> Duration? {
        guard let after = self.configuration.overflowAfter else { return nil }
        var start = entry.enqueuedAt
        if entry.cameByOverflow, let arrived = entry.arrivedAt { start = max(start, arrived) }
        return start + after
    }

    /// Whether the ticket may be matched here now: its RTT is within the limit, or it has
    /// waited past ``MatchmakingConfiguration/overflowAfter`` (always, when overflow is off:
    /// a ticket with a closer region has left at once, and the others have nowhere to go).
    func isMatchable(_ entry: PoolEntry, now: Duration) -> Bool {
        guard entry.highRTT else { return true }
        guard let after = self.configuration.overflowAfter else { return true }
        return now - entry.enqueuedAt > after
    }
}
