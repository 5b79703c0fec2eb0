/// Server side of replication: every tick, one packet per client, a delta of its area of
/// interest against the last snapshot that client acknowledged (or a full snapshot when it
/// acknowledged nothing recently). Pure: the match actor sends the packets and feeds acks back.
public struct SnapshotReplicator: Sendable {
    public let configuration: ReplicationConfiguration

    /// Per client (index = player id): the snapshots sent recently, a ring indexed by tick.
    private var history: [[ReplicatedSnapshot?]]
    private var acknowledged: [UInt32?]
    private var lastAckArrival: [UInt32]
    /// Per client: acks of ticks before this are ignored (see ``forgetAcknowledgement(client:now:)``).
    private var acksFrom: [UInt32]

    /// - Parameter clients: One client per player id `0..<clients`.
    public init(clients: Int, configuration: ReplicationConfiguration = ReplicationConfiguration()) {
        self.configuration = configuration
        let length = configuration.fullSnapshotAfterTicks + 1
        self.history = Array(repeating: Array(repeating: nil, count: length), count: clients)
        self.acknowledged = Array(repeating: nil, count: clients)
        self.lastAckArrival = Array(repeating: 0, count: clients)
        self.acksFrom = Array(repeating: 0, count: clients)
    }

    /// `client` holds no snapshot any more (it resumed on a new connection and forgot its
    /// baselines): its next packet is a full snapshot, and acks still in flight for ticks
    /// before `now` are ignored.
    public mutating func forgetAcknowledgement(client: MatchPlayerID, now: UInt32) {
        let index = Int(client)
        guard index < self.acknowledged.count else { return }
        self.acknowledged[index] = nil
        self.acksFrom[index] = now
    }

    /// Records that `client` holds the snapshot of `tick`. Stale or unknown acks are ignored.
    public mutating func acknowledge(client: MatchPlayerID, tick: UInt32, now: UInt32) {
        let index = Int(client)
        guard index < self.acknowledged.count else { return }
        if let current = self.acknowledged[index], current >= tick { return }
        guard tick >= self.acksFrom[index] else { return }
        guard self.sent(client: index, tick: tick) != nil else { return }
        self.acknowledged[index] = tick
        self.lastAckArrival[index] = now
    }

    /// The quantised view of `client` at the simulation's current tick: live players in the
    /// grid cells within the interest radius of the client's own player.
    public func view(for client: MatchPlayerID, of simulation: MatchSimulation) -> ReplicatedSnapshot {
        let grid = simulation.currentGrid
        let players = simulation.players
        let me = players[Int(client)]
        let span = Int32(self.configuration.interestRadiusCells) * grid.cellSize
        var entities: [ReplicatedEntity] = []
        entities.reserveCapacity(32)
        grid.forEach(minX: me.x - span, minY: me.y - span, maxX: me.x + span, maxY: me.y + span) { index in
            entities.append(ReplicatedEntity(players[index]))
        }
        entities.sort { $0.id < $1.id }
        return ReplicatedSnapshot(tick: simulation.tick, entities: entities)
    }

    /// Builds this tick's packet for every client, in player id order.
    public mutating func packets(for simulation: MatchSimulation) -> [[UInt8]] {
        (0..<self.history.count).map { self.packet(for: MatchPlayerID($0), of: simulation) }
    }

    /// Builds this tick's packet for one client and remembers what was sent.
    public mutating func packet(for client: MatchPlayerID, of simulation: MatchSimulation) -> [UInt8] {
        let index = Int(client)
        let snapshot = self.view(for: client, of: simulation)
        let now = simulation.tick
        var baseline: ReplicatedSnapshot?
        if let acked = self.acknowledged[index],
           Int(now) - Int(self.lastAckArrival[index]) <= self.configuration.fullSnapshotAfterTicks {
            baseline = self.sent(client: index, tick: acked)
        }
        let bytes = SnapshotCodec.encode(snapshot, baseline: baseline)
        let ring = self.history[index].count
        self.history[index][Int(now % UInt32(ring))] = snapshot
        return bytes
    }

    /// Whether the next packet for `client` at tick `now` will be a full snapshot.
    public func needsFullSnapshot(client: MatchPlayerID, now: UInt32) -> Bool {
        let index = Int(client)
        guard let acked = self.acknowledged[index] else { return true }
        return Int(now) - Int(self.lastAckArrival[index]) > self.configuration.fullSnapshotAfterTicks
            || self.sent(client: index, tick: acked) == nil
    }

    private func sent(client index: Int, tick: UInt32) -> ReplicatedSnapshot? {
        // Index in place: binding the ring to a local would retain it on every call.
        let slot = Int(tick % UInt32(self.history[index].count))
        guard let snapshot = self.history[index][slot], snapshot.tick == tick else { return nil }
        return snapshot
    }
}
