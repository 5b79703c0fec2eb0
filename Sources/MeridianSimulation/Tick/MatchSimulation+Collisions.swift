extension MatchSimulation {
    /// Collision passes per tick: enough to settle a crowd pushed against a wall.
    static let collisionPasses = 4

    /// Pushes overlapping players apart, symmetrically and in id order (so deterministically).
    mutating func resolveCollisions() {
        let radius = self.configuration.playerRadius * FixedPoint.one
        let minimum = Int64(2 * radius)
        // Cell membership may go slightly stale as players are pushed; the query box has margin.
        let grid = self.grid
        for _ in 0..<Self.collisionPasses {
            var moved = false
            for i in self.players.indices where self.players[i].isAlive {
                let xi = self.players[i].x, yi = self.players[i].y
                grid.forEach(minX: xi - 3 * radius, minY: yi - 3 * radius, maxX: xi + 3 * radius, maxY: yi + 3 * radius) { j in
                    guard j > i else { return }
                    let dx = Int64(self.players[j].x - self.players[i].x), dy = Int64(self.players[j].y - self.players[i].y)
                    let distanceSquared = dx * dx + dy * dy
                    guard distanceSquared < minimum * minimum else { return }
                    let distance = FixedPoint.squareRoot(distanceSquared)
                    let half = (minimum - distance) / 2 + 1
                    // Coincident players separate along x, lower id to the left.
                    let px = distance == 0 ? Int32(half) : Int32(dx * half / distance)
                    let py = distance == 0 ? 0 : Int32(dy * half / distance)
                    self.players[i].x -= px
                    self.players[i].y -= py
                    self.players[j].x += px
                    self.players[j].y += py
                    self.clampToArena(i)
                    self.clampToArena(j)
                    moved = true
                }
            }
            if !moved { break }
        }
    }
}
