extension MatchSimulation {
    /// Reloads, cooldowns, hitscan shots through the grid, then damage applied all at once so
    /// the order of shooters within a tick never matters.
    mutating func resolveWeapons() {
        let radius = Int64(self.configuration.playerRadius * FixedPoint.one)
        let range = Int64(self.configuration.weaponRange * FixedPoint.one)
        for i in self.players.indices where self.players[i].isAlive {
            if self.players[i].cooldownTicksLeft > 0 { self.players[i].cooldownTicksLeft -= 1 }
            if self.players[i].reloadTicksLeft > 0 {
                self.players[i].reloadTicksLeft -= 1
                if self.players[i].reloadTicksLeft == 0 { self.players[i].ammo = self.configuration.magazineSize }
            }
            guard self.firing[i], self.players[i].ammo > 0, self.players[i].cooldownTicksLeft == 0,
                  self.players[i].reloadTicksLeft == 0 else { continue }
            self.players[i].ammo -= 1
            self.players[i].cooldownTicksLeft = self.configuration.fireIntervalTicks
            if self.players[i].ammo == 0 { self.players[i].reloadTicksLeft = self.configuration.reloadTicks }
            self.events.append(.shot(shooter: MatchPlayerID(i)))
            if let target = self.hitscan(from: i, radius: radius, range: range) {
                self.pendingDamage[target] += self.configuration.damage
                self.lastHitter[target] = Int32(i)
                self.events.append(.hit(shooter: MatchPlayerID(i), target: MatchPlayerID(target)))
            }
        }
        for target in self.players.indices where self.pendingDamage[target] > 0 {
            let wasAlive = self.players[target].isAlive
            self.players[target].health = max(0, self.players[target].health - self.pendingDamage[target])
            self.pendingDamage[target] = 0
            if wasAlive, !self.players[target].isAlive {
                let shooter = Int(self.lastHitter[target])
                if shooter >= 0 { self.players[shooter].kills += 1 }
                self.events.append(.eliminated(target: MatchPlayerID(target), by: shooter >= 0 ? MatchPlayerID(shooter) : nil))
                self.queues[target].removeAll()
            }
            self.lastHitter[target] = -1
        }
    }

    /// The nearest live player whose circle the aim ray crosses within range (ties: lowest id).
    private func hitscan(from shooter: Int, radius: Int64, range: Int64) -> Int? {
        let origin = self.players[shooter]
        let (ux, uy) = FixedPoint.unitVector(angle: origin.aim)
        let endX = Int64(origin.x) + ux * range / FixedPoint.trigScale
        let endY = Int64(origin.y) + uy * range / FixedPoint.trigScale
        let r = Int32(radius)
        var best: Int?
        var bestT = Int64.max
        self.grid.forEach(
            minX: Int32(min(Int64(origin.x), endX)) - r, minY: Int32(min(Int64(origin.y), endY)) - r,
            maxX: Int32(max(Int64(origin.x), endX)) + r, maxY: Int32(max(Int64(origin.y), endY)) + r
        ) { j in
            guard j != shooter else { return }
            let dx = Int64(self.players[j].x - origin.x), dy = Int64(self.players[j].y - origin.y)
            let t = (dx * ux + dy * uy) / FixedPoint.trigScale
            guard t >= 0, t <= range else { return }
            let perpendicular = (dx * uy - dy * ux) / FixedPoint.trigScale
            guard perpendicular * perpendicular <= radius * radius else { return }
            if t < bestT || (t == bestT && j < (best ?? Int.max)) {
                bestT = t
                best = j
            }
        }
        return best
    }

    /// Last player standing, or the time limit.
    mutating func checkEnd() {
        var alive = 0
        var survivor: Int?
        for index in self.players.indices where self.players[index].isAlive {
            alive += 1
            survivor = index
        }
        if alive <= 1 {
            self.outcome = .lastPlayerStanding(winner: alive == 1 ? survivor.map { MatchPlayerID($0) } : nil)
        } else if self.tick >= self.configuration.timeLimitTicks {
            self.outcome = .timeLimitReached
        }
    }
}
