import Foundation

extension MatchmakingPool {
    /// Forms new matches, anchors oldest first.
    ///
    /// Around each anchor the sweep walks outward in rating order (nearest first) and collects
    /// tickets compatible both ways with the anchor and with every ticket collected so far:
    /// each ticket's rating inside every other's window. Keeping the collected ratings'
    /// range [lowest, highest] and the intersection [floor, ceiling] of their windows makes
    /// that check O(1) per candidate. The walk stops once the parties collected can be packed
    /// into a full match, or at the search limits; then a subset sum picks whole parties —
    /// nearer ones first — for a full match, or, once the anchor has waited
    /// ``MatchmakingConfiguration/formWithFewerAfter``, for the largest match of at least
    /// ``MatchmakingConfiguration/minPlayers``.
    mutating func formMatches(_ work: inout PassWorkspace, into formed: inout [FormedMatch]) {
        let maxPlayers = self.configuration.maxPlayers
        let candidateLimit = SearchLimits.candidates(maxPlayers: maxPlayers)
        var members: [Int] = []
        for slot in self.byAge {
            let anchor = work.positionOfSlot[slot]
            guard anchor >= 0, work.available.contains(anchor) else { continue }
            members.removeAll(keepingCapacity: true)
            let anchorSize = work.size[anchor]
            var packing = PartyPacking(anchorSize: anchorSize, capacity: maxPlayers)
            var compatiblePlayers = anchorSize
            var lowest = work.rating[anchor]
            var highest = lowest
            var floor = lowest - work.window[anchor]
            var ceiling = lowest + work.window[anchor]
            var walk = work.outward(around: anchor)
            var examined = 0
            while !packing.canFill, examined < SearchLimits.examinedPerAnchor, members.count < candidateLimit,
                let candidate = walk.next(in: &work, floor: floor, ceiling: ceiling)
            {
                examined += 1
                let rating = work.rating[candidate]
                let window = work.window[candidate]
                // The walk keeps `rating` inside every collected window; the candidate's own
                // window must hold every collected rating, and the party must fit beside the anchor's.
                guard rating - window <= lowest, rating + window >= highest, work.size[candidate] + anchorSize <= maxPlayers else {
                    continue
                }
                members.append(candidate)
                floor = max(floor, rating - window)
                ceiling = min(ceiling, rating + window)
                lowest = min(lowest, rating)
                highest = max(highest, rating)
                packing.add(work.size[candidate])
                compatiblePlayers += work.size[candidate]
            }

            var total: Int?
            if packing.canFill {
                total = maxPlayers
            } else if work.now - self.entries[slot].enqueuedAt >= self.configuration.formWithFewerAfter {
                total = packing.largest(atLeast: self.configuration.minPlayers)
            }
            guard let total, let picks = PartyPacking.choose(sizes: members.map { work.size[$0] }, total: total - anchorSize) else {
                self.entries[slot].lastSearch = SearchDiagnosis(
                    compatiblePlayers: compatiblePlayers,
                    bestFit: packing.largest(atLeast: 0) ?? anchorSize
                )
                continue
            }
            let chosen = [anchor] + picks.map { members[$0] }
            for position in chosen { work.take(position) }
            formed.append(self.match(nil, positions: chosen, in: work))
        }
    }

    /// A ``FormedMatch`` of the tickets at `positions`, in that order.
    func match(_ matchID: UUID?, positions: [Int], in work: PassWorkspace) -> FormedMatch {
        var tickets: [MatchmakingTicket] = []
        tickets.reserveCapacity(positions.count)
        var ratingSum = 0.0
        var players = 0
        for position in positions {
            let ticket = self.tickets[work.slots[position]]
            for player in ticket.players { ratingSum += player.skill.rating }
            players += ticket.players.count
            tickets.append(ticket)
        }
        return FormedMatch(matchID: matchID, tickets: tickets, averageRating: players > 0 ? ratingSum / Double(players) : 0)
    }
}
