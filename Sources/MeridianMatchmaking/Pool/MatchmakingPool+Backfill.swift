import Foundation

extension MatchmakingPool {
    /// Fills open lobbies, oldest lobby first, before any new match forms.
    ///
    /// Around each lobby's average rating the walk goes outward (nearest first, at most
    /// ``MatchmakingConfiguration/maxWindow`` away — no window is wider) and takes every ticket
    /// whose own window covers the lobby's rating and whose party fits the seats left.
    mutating func backfill(_ work: inout PassWorkspace, into backfilled: inout [FormedMatch]) {
        guard self.configuration.backfill, !self.lobbies.isEmpty else { return }
        let lobbies = self.lobbies.values.sorted {
            $0.since != $1.since ? $0.since < $1.since : UUID.matchmakingPrecedes($0.matchID, $1.matchID)
        }
        for lobby in lobbies {
            let target = lobby.averageRating
            var seats = lobby.openSeats
            var chosen: [Int] = []
            var walk = work.outward(around: target)
            var examined = 0
            while seats > 0, examined < SearchLimits.examinedPerLobby,
                let candidate = walk.next(in: &work, floor: target - self.configuration.maxWindow, ceiling: target + self.configuration.maxWindow)
            {
                examined += 1
                guard abs(work.rating[candidate] - target) <= work.window[candidate] else { continue }
                guard work.size[candidate] <= seats else {
                    // Remembered for the party's status: a lobby would take it but is too small.
                    let slot = work.slots[candidate]
                    self.entries[slot].lobbySeatsShort = max(self.entries[slot].lobbySeatsShort ?? 0, seats)
                    continue
                }
                chosen.append(candidate)
                seats -= work.size[candidate]
                work.take(candidate)
            }
            if !chosen.isEmpty {
                backfilled.append(self.match(lobby.matchID, positions: chosen, in: work))
            }
            if seats == 0 {
                self.lobbies[lobby.matchID] = nil
            } else {
                self.lobbies[lobby.matchID]?.openSeats = seats
            }
        }
    }
}
