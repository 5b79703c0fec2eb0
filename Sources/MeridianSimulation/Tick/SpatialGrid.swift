/// A uniform grid over the arena, rebuilt every tick by counting sort: entities of a cell
/// are contiguous in ``entries`` and keep id order, so queries are deterministic.
struct SpatialGrid: Sendable {
    let columns: Int
    let rows: Int
    /// Cell size in subunits.
    let cellSize: Int32
    /// `entries[starts[c]..<starts[c + 1]]` are the player indices in cell `c`.
    private(set) var starts: [Int32]
    private(set) var entries: [Int32]
    private var cellOfEntity: [Int32]

    init(width: Int32, height: Int32, cellSize: Int32) {
        self.cellSize = cellSize * FixedPoint.one
        self.columns = Int((width + cellSize - 1) / cellSize)
        self.rows = Int((height + cellSize - 1) / cellSize)
        self.starts = Array(repeating: 0, count: self.columns * self.rows + 1)
        self.entries = []
        self.cellOfEntity = []
    }

    func column(_ x: Int32) -> Int { min(self.columns - 1, max(0, Int(x / self.cellSize))) }
    func row(_ y: Int32) -> Int { min(self.rows - 1, max(0, Int(y / self.cellSize))) }

    /// Rebuilds from the players' positions; dead players are left out.
    mutating func rebuild(_ players: [PlayerState]) {
        let cellCount = self.columns * self.rows
        for i in 0...cellCount { self.starts[i] = 0 }
        if self.cellOfEntity.count != players.count {
            self.cellOfEntity = Array(repeating: -1, count: players.count)
        }
        var live = 0
        for (index, player) in players.enumerated() {
            guard player.isAlive else { self.cellOfEntity[index] = -1; continue }
            let cell = self.row(player.y) * self.columns + self.column(player.x)
            self.cellOfEntity[index] = Int32(cell)
            self.starts[cell + 1] += 1
            live += 1
        }
        for i in 0..<cellCount { self.starts[i + 1] += self.starts[i] }
        if self.entries.count != live { self.entries = Array(repeating: 0, count: live) }
        var cursor = self.starts
        for index in players.indices {
            let cell = Int(self.cellOfEntity[index])
            guard cell >= 0 else { continue }
            self.entries[Int(cursor[cell])] = Int32(index)
            cursor[cell] += 1
        }
    }

    /// Calls `body` with every entity index in the cells overlapping the box (subunits), cell by cell.
    @inline(__always)
    func forEach(minX: Int32, minY: Int32, maxX: Int32, maxY: Int32, _ body: (Int) -> Void) {
        let c0 = self.column(minX), c1 = self.column(maxX)
        let r0 = self.row(minY), r1 = self.row(maxY)
        for r in r0...r1 {
            for c in c0...c1 {
                let cell = r * self.columns + c
                for e in Int(self.starts[cell])..<Int(self.starts[cell + 1]) { body(Int(self.entries[e])) }
            }
        }
    }
}
